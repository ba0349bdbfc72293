#include "daemon_command_line.hpp"

#include "daemon.hpp"
#include "daemon_log.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <stdexcept>

namespace bond::daemon {
namespace {

// --pool's LANG=N: the language and how many of it to keep started.
std::pair<std::string, std::size_t> parse_pool(const std::string& pool) {
    auto equals = pool.find('=');
    std::size_t count = 0, used = 0;
    if (equals != std::string::npos) {
        try {
            count = std::stoul(pool.substr(equals + 1), &used);
        } catch (const std::exception&) {
            used = 0;
        }
    }
    if (equals == std::string::npos || equals == 0 || used == 0 || equals + 1 + used != pool.size())
        throw std::runtime_error("--pool wants LANG=N, e.g. python=2, not '" + pool + "'");
    return {pool.substr(0, equals), count};
}

}  // namespace

void DaemonCommandLine::add_to(CLI::App& app) {
    auto* socket_option = app.add_option(
        "--socket", socket_,
        "the Unix socket to listen on (default: $XDG_RUNTIME_DIR/bond/bondd.sock, else "
        "/tmp/bond-$UID/bondd.sock)");
    auto* listen_option =
        app.add_option("--listen", listen_,
                       "also (or only) listen on TCP HOST:PORT; clients must send auth first");
    auto* remote_option = app.add_flag("--allow-remote", options_.allow_remote,
                                       "let --listen use an address other than loopback");
    auto* token_option = app.add_option("--token-file", token_file_,
                                        "the file holding the token TCP clients authenticate with")
                             ->check(CLI::ExistingFile);
    app.add_option("--auth-timeout-ms", auth_timeout_ms_,
                   "how long a TCP client has to authenticate before it is disconnected")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    auto* stdio_option =
        app.add_flag("--stdio", options_.stdio, "serve one client on stdin/stdout, and no socket");
    app.add_option("--pool", pools_,
                   "keep N interpreters of LANG started in advance (LANG=N), so that open costs "
                   "no start-up; may be repeated")
        ->type_name("LANG=N");
    app.add_option("--log-level", log_level_,
                   "trace, debug, info, warn, error, critical or off (logs go to stderr)")
        ->capture_default_str();
    app.add_flag("--log-traffic", log_traffic_, "log every message in and out (payloads included)");
    app.add_option("--max-message-size", options_.max_message_size,
                   "the longest message line accepted from a client, in bytes")
        ->capture_default_str();
    app.add_option("--max-client-bonds", options_.client_limits.max_bonds,
                   "how many bonds one client may hold at once (opened or attached)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-client-requests", options_.client_limits.max_requests,
                   "how many requests of one client may wait for their answer at once")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--ready-fd", ready_fd_,
                   "once listening, write one line per listener (\"unix PATH\", \"tcp HOST:PORT\", "
                   "\"stdio\") to this descriptor and close it");
    stdio_option->excludes(socket_option)->excludes(listen_option);
    listen_option->needs(token_option);
    remote_option->needs(listen_option);
    token_option->needs(listen_option);
}

int DaemonCommandLine::run() {
    try {
        configure_logging(log_level_, log_traffic_);
        DaemonOptions options = options_;
        if (!socket_.empty()) options.socket = socket_;
        if (!listen_.empty()) options.listen = listen_;
        if (!token_file_.empty()) options.token_file = token_file_;
        if (ready_fd_ >= 0) options.ready_fd = ready_fd_;
        options.auth_timeout = std::chrono::milliseconds(auth_timeout_ms_);
        for (const auto& pool : pools_) options.pool.push_back(parse_pool(pool));
        // A client that disconnects while being written to is an error to handle, not a signal
        // that ends the daemon.
        std::signal(SIGPIPE, SIG_IGN);
        Daemon daemon(std::move(options));
        return daemon.run();
    } catch (const std::exception& error) {
        std::cerr << "bondd: " << error.what() << '\n';
        return 1;
    }
}

}  // namespace bond::daemon
