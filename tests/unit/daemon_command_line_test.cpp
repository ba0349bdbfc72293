// bondd's options added to a sub-command, as the `bond` command's `serve` adds them: the rules
// between them hold there, the rest of the command is left alone, and run() serves.
#include "daemon/daemon_command_line.hpp"

#include <bond/bond.hpp>

#include <doctest/doctest.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <future>
#include <iostream>
#include <sstream>
#include <string>

namespace {

constexpr int kHangGuardMs = 120000;  // only a hang takes this long

// A command with a `serve` sub-command that takes bondd's options, as src/cli/ builds it.
struct CommandWithServe {
    bond::daemon::DaemonCommandLine line;
    CLI::App app{"a command of its own"};
    CLI::App* serve = nullptr;

    CommandWithServe() {
        app.set_version_flag("--version", "9.9");
        serve = app.add_subcommand("serve", "runs bondd in the foreground");
        line.add_to(*serve);
    }
    void parse(const std::string& arguments) { app.parse(arguments, false); }
};

// What std::cerr received during its lifetime.
class CapturedErrors {
  public:
    CapturedErrors() : old_(std::cerr.rdbuf(captured_.rdbuf())) {}
    ~CapturedErrors() { std::cerr.rdbuf(old_); }
    std::string text() const { return captured_.str(); }

  private:
    std::ostringstream captured_;
    std::streambuf* old_;
};

// Reads `fd` to its end, waiting at most the hang guard for each piece.
std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
        pollfd ready{fd, POLLIN, 0};
        if (::poll(&ready, 1, kHangGuardMs) != 1) break;
        ssize_t count = ::read(fd, buffer, sizeof buffer);
        if (count <= 0) break;
        text.append(buffer, static_cast<std::size_t>(count));
    }
    return text;
}

}  // namespace

TEST_CASE("bondd's options go to the sub-command and nothing else of the command changes") {
    CommandWithServe command;
    CHECK(command.app.get_description() == "a command of its own");
    CHECK(command.serve->get_description() == "runs bondd in the foreground");
    for (const char* name :
         {"--socket", "--listen", "--allow-remote", "--token-file", "--auth-timeout-ms", "--stdio",
          "--pool", "--log-level", "--log-traffic", "--max-message-size", "--ready-fd"}) {
        CAPTURE(name);
        CHECK_NOTHROW(command.serve->get_option(name));
        CHECK_THROWS_AS(command.app.get_option(name), CLI::OptionNotFound);
    }
    CHECK_NOTHROW(command.app.get_option("--version"));
    CHECK_THROWS_AS(command.serve->get_option("--version"), CLI::OptionNotFound);
}

TEST_CASE("the rules between bondd's options hold in a sub-command") {
    CHECK_THROWS_AS(CommandWithServe().parse("serve --stdio --socket /tmp/x.sock"),
                    CLI::ExcludesError);
    CHECK_THROWS_AS(CommandWithServe().parse("serve --listen 127.0.0.1:0"), CLI::RequiresError);
    CHECK_THROWS_AS(CommandWithServe().parse("serve --allow-remote"), CLI::RequiresError);
    CHECK_THROWS_AS(CommandWithServe().parse("serve --auth-timeout-ms 0"), CLI::ValidationError);
    CHECK_THROWS_AS(CommandWithServe().parse("serve --token-file /nonexistent-bond-token"),
                    CLI::ValidationError);
    CHECK_THROWS_AS(CommandWithServe().parse("--pool python=1 serve"), CLI::ExtrasError);
    CHECK_NOTHROW(CommandWithServe().parse("serve --pool python=1 --pool php=2 --log-traffic"));
}

TEST_CASE("what the parser cannot check is an error of bondd and run() returns 1") {
    auto missing = std::filesystem::temp_directory_path() /
                   ("bond-unit-no-such-directory-" + std::to_string(::getpid()));
    struct Case {
        std::string arguments, error;
    };
    for (const auto& [arguments, error] : {
             Case{"serve --pool python",
                  "bondd: --pool wants LANG=N, e.g. python=2, not 'python'\n"},
             Case{"serve --pool =2", "bondd: --pool wants LANG=N, e.g. python=2, not '=2'\n"},
             Case{"serve --log-level loud", "bondd: unknown log level 'loud'"},
             Case{"serve --log-level off --pool cobol=1",
                  "bondd: --pool: unknown language 'cobol'\n"},
             Case{"serve --log-level off --socket " + (missing / "bondd.sock").string(),
                  "bondd: cannot listen on " + (missing / "bondd.sock").string()},
         }) {
        CAPTURE(arguments);
        CommandWithServe command;
        command.parse(arguments);
        CapturedErrors errors;
        CHECK(command.line.run() == 1);
        CHECK(errors.text().rfind(error, 0) == 0);
        CHECK(errors.text().find('\n') == errors.text().size() - 1);  // one line
    }
    CHECK_FALSE(std::filesystem::exists(missing));
}

TEST_CASE("run() serves until SIGTERM, as bondd does") {
    auto directory =
        std::filesystem::temp_directory_path() / ("bond-unit-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directory(directory);
    auto socket_path = directory / "bondd.sock";
    int ready[2];
    REQUIRE(::pipe(ready) == 0);

    CommandWithServe command;
    command.parse("serve --log-level warn --socket " + socket_path.string() + " --ready-fd " +
                  std::to_string(ready[1]));
    auto served = std::async(std::launch::async, [&] { return command.line.run(); });
    CHECK(read_all(ready[0]) == "unix " + socket_path.string() + "\n");  // closed once listening
    ::close(ready[0]);

    int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    std::string request = R"({"jsonrpc":"2.0","id":1,"method":"drivers"})"
                          "\n";
    REQUIRE(::write(client, request.data(), request.size()) ==
            static_cast<ssize_t>(request.size()));
    ::shutdown(client, SHUT_WR);  // the daemon answers, then closes the connection
    auto answer = read_all(client);
    REQUIRE(answer.find('\n') == answer.size() - 1);  // one line
    // The languages of the driver registry, in its order.
    CHECK(nlohmann::json::parse(answer) ==
          nlohmann::json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", bond::list_drivers()}});
    ::close(client);

    // The daemon's signal handler is installed: SIGTERM ends run(), not this process.
    ::kill(::getpid(), SIGTERM);
    REQUIRE(served.wait_for(std::chrono::milliseconds(kHangGuardMs)) == std::future_status::ready);
    CHECK(served.get() == 0);
    CHECK_FALSE(std::filesystem::exists(socket_path));  // removed on the way out
    std::filesystem::remove_all(directory);
}
