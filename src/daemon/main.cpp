// bondd: the bond daemon. Holds bonds (interpreters) for its clients and speaks newline-delimited
// JSON-RPC 2.0 to them over a Unix socket, TCP or stdin/stdout (docs/daemon.md).
#include "daemon.hpp"
#include "daemon_log.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{
        "bondd: holds bonds (interpreters of Python, PHP, Perl, JavaScript) for clients "
        "in any language, speaking newline-delimited JSON-RPC 2.0 (docs/daemon.md)"};
    bond::daemon::DaemonOptions options;
    std::string socket, listen, token_file, log_level = "info";
    std::vector<std::string> pools;
    bool log_traffic = false;
    int ready_fd = -1;

    auto* socket_option = app.add_option(
        "--socket", socket,
        "the Unix socket to listen on (default: $XDG_RUNTIME_DIR/bond/bondd.sock, else "
        "/tmp/bond-$UID/bondd.sock)");
    auto* listen_option = app.add_option(
        "--listen", listen, "also (or only) listen on TCP HOST:PORT; clients must send auth first");
    auto* remote_option = app.add_flag("--allow-remote", options.allow_remote,
                                       "let --listen use an address other than loopback");
    auto* token_option = app.add_option("--token-file", token_file,
                                        "the file holding the token TCP clients authenticate with")
                             ->check(CLI::ExistingFile);
    std::int64_t auth_timeout_ms = options.auth_timeout.count();
    app.add_option("--auth-timeout-ms", auth_timeout_ms,
                   "how long a TCP client has to authenticate before it is disconnected")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    auto* stdio_option =
        app.add_flag("--stdio", options.stdio, "serve one client on stdin/stdout, and no socket");
    app.add_option("--pool", pools,
                   "keep N interpreters of LANG started in advance (LANG=N), so that open costs "
                   "no start-up; may be repeated")
        ->type_name("LANG=N");
    app.add_option("--log-level", log_level,
                   "trace, debug, info, warn, error, critical or off (logs go to stderr)")
        ->capture_default_str();
    app.add_flag("--log-traffic", log_traffic, "log every message in and out (payloads included)");
    app.add_option("--max-message-size", options.max_message_size,
                   "the longest message line accepted from a client, in bytes")
        ->capture_default_str();
    app.add_option("--ready-fd", ready_fd,
                   "once listening, write one line per listener (\"unix PATH\", \"tcp HOST:PORT\", "
                   "\"stdio\") to this descriptor and close it");
    stdio_option->excludes(socket_option)->excludes(listen_option);
    listen_option->needs(token_option);
    remote_option->needs(listen_option);
    token_option->needs(listen_option);

    CLI11_PARSE(app, argc, argv);

    try {
        bond::daemon::configure_logging(log_level, log_traffic);
        if (!socket.empty()) options.socket = socket;
        if (!listen.empty()) options.listen = listen;
        if (!token_file.empty()) options.token_file = token_file;
        if (ready_fd >= 0) options.ready_fd = ready_fd;
        options.auth_timeout = std::chrono::milliseconds(auth_timeout_ms);
        for (const auto& pool : pools) {
            auto equals = pool.find('=');
            std::size_t count = 0, used = 0;
            if (equals != std::string::npos) {
                try {
                    count = std::stoul(pool.substr(equals + 1), &used);
                } catch (const std::exception&) {
                    used = 0;
                }
            }
            if (equals == std::string::npos || equals == 0 || used == 0 ||
                equals + 1 + used != pool.size())
                throw std::runtime_error("--pool wants LANG=N, e.g. python=2, not '" + pool + "'");
            options.pool.emplace_back(pool.substr(0, equals), count);
        }
        // A client that disconnects while being written to is an error to handle, not a signal
        // that ends the daemon.
        std::signal(SIGPIPE, SIG_IGN);
        bond::daemon::Daemon daemon(std::move(options));
        return daemon.run();
    } catch (const std::exception& error) {
        std::cerr << "bondd: " << error.what() << '\n';
        return 1;
    }
}
