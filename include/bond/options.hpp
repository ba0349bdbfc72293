// How a bond is started and where its output goes: a plain aggregate, filled with designated
// initializers, e.g. bond::Options{.command = "ssh host python3", .timeout = 5s}.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

// Which stream of the remote process a piece of output came from.
enum class Channel { Stdout, Stderr };

// Ceilings on one top-level eval, eval_block or call, nested calls in both directions included
// (docs/limits.md). Every field is optional: unset means no ceiling. Exceeding one stops the code
// inside the interpreter and raises LimitExceeded; the bond goes on with its state intact.
struct Limits {
    // Time from sending the operation to its reply, exported C++ functions included.
    std::optional<std::chrono::milliseconds> wall;
    // CPU time (user + system) the interpreter's process spends on the operation.
    std::optional<std::chrono::milliseconds> cpu;
    // Bytes the code may allocate beyond what the interpreter held once its driver had started.
    std::optional<std::size_t> memory;
    // Bytes of stdout + stderr the operation may produce; what comes after is dropped.
    std::optional<std::size_t> output;
    // How long stopped code has to end before the interpreter is killed; unset: 1 s.
    std::optional<std::chrono::milliseconds> grace;
};

// The locked-down mode for untrusted code (docs/limits.md): the command runs inside bubblewrap
// (bwrap) with no network, the system's /usr and /etc read-only, a private writable /tmp, no
// other files of the host, no new privileges, and it dies with the host.
struct Sandbox {
    // Further paths of the host the code may read, under the same names.
    std::vector<std::filesystem::path> read_only;
    // Further paths of the host the code may read and write, under the same names.
    std::vector<std::filesystem::path> writable;
};

struct Options {
    // Empty: the driver's default interpreter (python3, ...). Otherwise words split as a POSIX
    // shell splits them ('...', "...", backslash) but run without a shell.
    std::string command;
    // Appended after the command and the driver's default arguments.
    std::vector<std::string> args;
    std::optional<std::filesystem::path> cwd;
    // The co-process's whole environment; unset: inherit the host's.
    std::optional<std::map<std::string, std::string>> env;
    // False drops the driver's default interpreter arguments (Python: -u -S -i -q).
    bool def_args = true;
    // Forward exceptions as serialized objects in RemoteException::data(); default false.
    std::optional<bool> trans_except;
    // The longest the host waits for any one reply of the co-process.
    std::chrono::milliseconds timeout{60000};
    // The longest the host waits for the interpreter to start and its driver to answer (an ssh
    // connection, a loaded machine): apart from `timeout`, so that calls can be held to less.
    std::chrono::milliseconds start_timeout{60000};
    // Remote stdout/stderr as it arrives; default: the host's std::cout / std::cerr.
    std::function<void(Channel, std::string_view)> on_output;
    // When set, every protocol line both ways is copied here, prefixed "-> " (sent) or "<- ".
    std::ostream* logfile = nullptr;
    // How deeply calls may nest (host -> remote -> host ...); a deeper call is a BondException,
    // which stops a runaway recursion across the bond before it exhausts the host's stack.
    std::size_t max_depth = 1000;
    // The longest protocol message accepted from the co-process; a longer one closes the bond.
    std::size_t max_message_size = std::size_t{256} << 20;
    // Limits for every top-level operation; Bond::with_limits sets them for one operation.
    Limits limits;
    // Set: the interpreter runs in the sandbox (needs bwrap on the host).
    std::optional<Sandbox> sandbox;
};

}  // namespace bond
