// bondd: the bond daemon. Holds bonds (interpreters) for its clients and speaks newline-delimited
// JSON-RPC 2.0 to them over a Unix socket, TCP or stdin/stdout (docs/daemon.md).
#include "../bond/driver_registry.hpp"
#include "daemon_command_line.hpp"

#include <bond/bond.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    try {
        CLI::App app{"bondd: holds bonds (interpreters of " + bond::detail::known_language_names() +
                     ") for clients in any language, speaking newline-delimited JSON-RPC 2.0 "
                     "(docs/daemon.md)"};
        bond::daemon::DaemonCommandLine command_line;
        command_line.add_to(app);
        CLI11_PARSE(app, argc, argv);
        return command_line.run();
    } catch (const std::exception& error) {  // what run() does not answer itself (bad_alloc)
        std::cerr << "bondd: " << error.what() << '\n';
        return 1;
    }
}
