// What bondd is asked to do: where it listens, who may connect, what it keeps ready. Filled from
// the command line (daemon_command_line), carried out by Daemon.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bond::daemon {

// What one client may hold at once: bonds it opened or attached to, and requests it has sent that
// are not answered yet (queued or running, nested ones included). Beyond them a request is
// refused with a BondException, so that no client can make the daemon start interpreters or
// queue work without bound.
struct ClientLimits {
    std::size_t max_bonds = 64;
    std::size_t max_requests = 1000;
};

struct DaemonOptions {
    // Where the Unix socket is; unset: the default path, unless `stdio` or `listen` is given.
    std::optional<std::filesystem::path> socket;
    bool stdio = false;                 // one client on stdin/stdout, and nothing else
    std::optional<std::string> listen;  // TCP HOST:PORT
    bool allow_remote = false;
    std::optional<std::filesystem::path> token_file;  // needed with `listen`
    // A TCP client that has not authenticated by then is disconnected.
    std::chrono::milliseconds auth_timeout{10000};
    std::vector<std::pair<std::string, std::size_t>> pool;  // language, how many kept ready
    std::size_t max_message_size = std::size_t{256} << 20;
    ClientLimits client_limits;
    // Once listening: one line per listener ("unix PATH", "tcp HOST:PORT", "stdio") is written
    // here, then it is closed.
    std::optional<int> ready_fd;
};

}  // namespace bond::daemon
