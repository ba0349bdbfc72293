// Starting, closing and failing: options that shape the process, clear start-up errors, the
// interpreter dying, logging, and bonds used from several threads.
#include "../support/processes.hpp"
#include "languages.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using bond::Value;
using namespace conformance;
using namespace std::chrono_literals;

namespace {
bool process_exists(int pid) {
    return ::kill(pid, 0) == 0;
}

template <class Exception>
std::string start_error(const std::string& lang, bond::Options options) {
    try {
        bond::make_bond(lang, std::move(options));
    } catch (const Exception& error) {
        return error.what();
    }
    FAIL("make_bond did not throw the expected exception");
    return "";
}
}  // namespace

TEST_CASE("close ends the interpreter, the destructor does too, a closed bond refuses work") {
    for_each_language([](const Language& language) {
        int pid = 0;
        {
            bond::Bond remote = make_test_bond(language);
            pid = interpreter_pid(remote, language);
            CHECK(process_exists(pid));
            remote.close();
            CHECK_FALSE(remote.alive());
            CHECK_FALSE(process_exists(pid));
            CHECK_THROWS_AS(remote.eval("1"), bond::TerminatedException);
            bond::Function later = remote.callable("f");
            CHECK_THROWS_AS(later(1), bond::TerminatedException);
            remote.close();  // twice is harmless
        }
        {
            bond::Bond remote = make_test_bond(language);
            pid = interpreter_pid(remote, language);
        }
        CHECK_FALSE(process_exists(pid));
    });
}

TEST_CASE("pid() is the started process's id, also after the bond has ended") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        int pid = remote.pid();
        CHECK(pid > 0);
        CHECK(process_exists(pid));
        remote.close();
        CHECK(remote.pid() == pid);
        CHECK_FALSE(process_exists(pid));
        bond::Bond moved = make_test_bond(language);
        bond::Bond into = std::move(moved);
        CHECK(moved.pid() == -1);
        CHECK(into.pid() > 0);
    });
}

TEST_CASE("a Bond moves, the moved-from one refuses work") {
    for_each_language([](const Language& language) {
        bond::Bond first = make_test_bond(language);
        bond::Bond second = std::move(first);
        CHECK(second.eval("1 + 1") == 2);
        CHECK_FALSE(first.alive());
        CHECK_THROWS_AS(first.eval("1"), bond::BondException);
        bond::Bond third = make_test_bond(language);
        int pid = interpreter_pid(third, language);
        third = std::move(second);  // closes third's interpreter
        CHECK_FALSE(process_exists(pid));
        CHECK(third.eval("2 + 2") == 4);
    });
}

TEST_CASE("the interpreter exiting or being killed is a TerminatedException saying how") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        try {
            remote.eval_block(language.exit_3);
            FAIL("no exception");
        } catch (const bond::TerminatedException& error) {
            CHECK(std::string(error.what()).find("exited with status 3") != std::string::npos);
            CHECK(error.exit_status() == 3);
        }
        CHECK_FALSE(remote.alive());

        bond::Bond victim = make_test_bond(language);
        victim.export_function("kill_me", [&] {
            ::kill(interpreter_pid(victim, language), SIGKILL);
            return 0;
        });
        try {
            victim.eval(language.call_export("kill_me"));
            FAIL("no exception");
        } catch (const bond::TerminatedException& error) {
            CHECK(std::string(error.what()).find("signal 9") != std::string::npos);
            CHECK_FALSE(error.exit_status().has_value());
        }
        CHECK_FALSE(victim.alive());
    });
}

TEST_CASE("cwd and env apply to the co-process") {
    for_each_language([](const Language& language) {
        auto directory = std::filesystem::canonical(std::filesystem::temp_directory_path());
        std::map<std::string, std::string> env = {{"BOND_TEST_VALUE", "héllo wörld"},
                                                  {"PATH", std::getenv("PATH")}};
        bond::Bond remote = make_test_bond(language, {.cwd = directory, .env = env});
        CHECK(remote.eval(language.cwd) == directory.string());
        CHECK(remote.eval(language.env_variable("BOND_TEST_VALUE")) == "héllo wörld");
        CHECK(remote.eval(language.env_variable("HOME")) == nullptr);

        ::setenv("BOND_TEST_INHERITED", "inherited", 1);
        bond::Bond inheriting = make_test_bond(language);
        CHECK(inheriting.eval(language.env_variable("BOND_TEST_INHERITED")) == "inherited");
    });
}

TEST_CASE("the logfile receives every line of traffic both ways") {
    for_each_language([](const Language& language) {
        std::ostringstream traffic;
        bond::Bond remote = make_test_bond(language, {.logfile = &traffic});
        remote.eval_block(language.define_add);
        CHECK(remote.call("add", 20, 22) == 42);
        std::string log = traffic.str();
        CHECK(log.find("\n<- {\"jsonrpc\":\"2.0\",\"method\":\"ready\"") != std::string::npos);
        CHECK(log.find("-> "
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"call\",\"params\":{\"args\":[20,"
                       "22],\"name\":\"add\"}}\n") != std::string::npos);
        CHECK(log.find("<- {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":42}\n") != std::string::npos);
    });
}

TEST_CASE("start-up failures are clear") {
    SUBCASE("interpreter not found") {
        std::string what = start_error<bond::BondException>(
            "Python", {.command = "no-such-interpreter-here --version"});
        CHECK(what.find("interpreter not found: 'no-such-interpreter-here'") != std::string::npos);
    }
    SUBCASE("a command that exits at once") {
        std::string what = start_error<bond::TerminatedException>("Python", {.command = "false"});
        CHECK(what.find("exited with status 1 before its driver started") != std::string::npos);
    }
    SUBCASE("driver injection failed: the interpreter's stderr is in the message") {
        std::string what = start_error<bond::TerminatedException>(
            "Python", {.command = "sh -c 'echo cannot run the driver >&2; exit 3'"});
        CHECK(what.find("exited with status 3") != std::string::npos);
        CHECK(what.find("cannot run the driver") != std::string::npos);
    }
    SUBCASE("a command that never starts the driver times out") {
        std::string what = start_error<bond::TimeoutException>(
            "Python", {.command = "cat", .def_args = false, .start_timeout = 3s});
        CHECK(what.find("while its driver was starting") != std::string::npos);
        CHECK(what.find("its stdout: exec(\"import os") != std::string::npos);
    }
    SUBCASE("a working directory that does not exist") {
        std::string what =
            start_error<bond::BondException>("Python", {.cwd = "/no/such/directory"});
        INFO(what);
        CHECK(what.find("/no/such/directory") != std::string::npos);
    }
    SUBCASE("an unterminated quote in the command") {
        std::string what = start_error<bond::BondException>("Python", {.command = "python3 'x"});
        CHECK(what.find("unterminated") != std::string::npos);
    }
}

TEST_CASE("diagnostics go to the spdlog logger \"bond\", payloads only at trace level") {
    for_each_language([](const Language& language) {
        bond::Bond first = make_test_bond(language);  // makes sure the logger exists
        auto logger = spdlog::get("bond");
        REQUIRE(logger);
        auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
        auto previous_sinks = logger->sinks();
        logger->sinks() = {sink};
        auto previous_level = logger->level();
        logger->set_level(spdlog::level::debug);
        {
            bond::Bond remote = make_test_bond(language);
            remote.eval("\"secret-payload\"");
        }
        std::string debug_log;
        for (const auto& line : sink->last_formatted()) debug_log += line;
        CHECK(debug_log.find("starting a " + language.name + " bond: ") != std::string::npos);
        CHECK(debug_log.find("bond closed") != std::string::npos);
        CHECK(debug_log.find("secret-payload") == std::string::npos);

        logger->set_level(spdlog::level::trace);
        {
            bond::Bond remote = make_test_bond(language);
            remote.eval("\"secret-payload\"");
        }
        std::string trace_log;
        for (const auto& line : sink->last_formatted()) trace_log += line;
        CHECK(trace_log.find("secret-payload") != std::string::npos);
        logger->set_level(previous_level);
        logger->sinks() = previous_sinks;
    });
}

TEST_CASE("different bonds run in parallel from different threads") {
    for_each_language([](const Language& language) {
        constexpr int threads = 4, calls = 300;
        std::vector<bond::Bond> bonds;
        for (int i = 0; i < threads; ++i) {
            bonds.push_back(make_test_bond(language));
            bonds.back().eval_block(language.define_add);
        }
        std::vector<int> correct(threads, 0);
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < calls; ++i)
                    if (bonds[t].call("add", t, i) == t + i) ++correct[t];
            });
        for (auto& worker : workers) worker.join();
        CHECK(correct == std::vector<int>(threads, calls));
    });
}

TEST_CASE("two bonds are inside calls at the same time") {
    for_each_language([](const Language& language) {
        // Each bond's remote code calls an export that waits until the other bond's call has
        // arrived too: serialised bonds could never meet. The wait's deadline only guards a hang.
        std::mutex mutex;
        std::condition_variable arrived;
        int inside = 0;
        auto meet = [&] {
            std::unique_lock lock(mutex);
            ++inside;
            arrived.notify_all();
            return arrived.wait_for(lock, 60s, [&] { return inside == 2; });
        };
        bond::Bond first = make_test_bond(language), second = make_test_bond(language);
        first.export_function("meet", meet);
        second.export_function("meet", meet);
        Value first_met, second_met;
        std::thread other([&] { second_met = second.eval(language.call_export("meet")); });
        first_met = first.eval(language.call_export("meet"));
        other.join();
        CHECK(first_met == true);
        CHECK(second_met == true);
    });
}

TEST_CASE("closing a bond also ends the processes its code left running in the background") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        // The background process prints its pid and sleeps; its output is redirected so that it
        // holds none of the bond's pipes.
        remote.eval_block(language.run_command("sleep 1000 > /dev/null 2>&1 & echo $!"));
        int background = std::stoi(output.text(bond::Channel::Stdout));
        CHECK(process_exists(background));
        int exit_watch = static_cast<int>(::syscall(SYS_pidfd_open, background, 0));
        REQUIRE(exit_watch >= 0);
        remote.close();
        // The pidfd becomes readable when the process has ended; the deadline only guards a hang.
        pollfd watch{.fd = exit_watch, .events = POLLIN, .revents = 0};
        CHECK(::poll(&watch, 1, 30000) == 1);
        ::close(exit_watch);
    });
}

namespace {
std::size_t open_descriptors() {
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                      std::filesystem::directory_iterator()));
}

}  // namespace

TEST_CASE("open, call, close cycles leak no descriptors and no processes") {
    for_each_language([](const Language& language) {
        { make_test_bond(language).eval("1"); }  // first use: the logger and such are made once
        std::size_t descriptors = open_descriptors(), children = children_of(::getpid()).size();
        for (int i = 0; i < 50; ++i) {
            bond::Bond remote = make_test_bond(language);
            CHECK(remote.eval("1 + 1") == 2);
            if (i % 2) remote.close();
        }
        CHECK(open_descriptors() == descriptors);
        CHECK(children_of(::getpid()).size() == children);
    });
}

TEST_CASE("the co-process inherits none of the host's descriptors") {
    for_each_language([](const Language& language) {
        int file = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
        REQUIRE(file >= 0);
        int high = ::fcntl(file, F_DUPFD, 900);
        REQUIRE(high >= 900);
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        ::close(high);
        ::close(file);
        // The interpreter's child inherits what the interpreter has.
        remote.eval_block(language.run_command("test -e /proc/self/fd/" + std::to_string(high) +
                                               " && echo open || echo closed"));
        CHECK(output.text(bond::Channel::Stdout) == "closed\n");
    });
}

TEST_CASE("a host that ignores SIGCHLD still starts, uses and closes bonds") {
    for_each_language([](const Language& language) {
        struct sigaction ignore {
        }, previous{};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGCHLD, &ignore, &previous);
        {
            bond::Bond remote = make_test_bond(language);
            CHECK(remote.eval("1 + 1") == 2);
            int pid = interpreter_pid(remote, language);
            int exit_watch = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
            REQUIRE(exit_watch >= 0);
            remote.close();
            // The kernel reaps it itself, a moment after it ends: ask whether it has ended.
            pollfd watch{.fd = exit_watch, .events = POLLIN, .revents = 0};
            CHECK(::poll(&watch, 1, 0) == 1);
            ::close(exit_watch);
            bond::Bond exiting = make_test_bond(language);
            CHECK_THROWS_WITH_AS(exiting.eval_block(language.exit_3), doctest::Contains("exited"),
                                 bond::TerminatedException);
        }
        ::sigaction(SIGCHLD, &previous, nullptr);
    });
}
