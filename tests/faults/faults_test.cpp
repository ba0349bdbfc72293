// Faults of the co-process, and abuse by it: it dies, hangs, stops reading, lies, floods or
// speaks garbage. Each case checks the exact exception and the host's health afterwards: no
// descriptor or child process left behind, and a new bond works. Real interpreters where the
// fault is something a real one does (being killed); tests/faults/hostile_driver.cpp, a fake
// co-process, where only a hostile one would do it.
#include "../conformance/languages.hpp"
#include "../support/processes.hpp"
#include "bond/driver_registry.hpp"

#include <bond/bond.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {
// AddressSanitizer keeps freed memory in quarantine and adds its own, ThreadSanitizer adds its
// shadow memory: resident-memory bounds mean nothing there (scripts/test --sanitize). The other
// checks of those tests still run.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMemoryIsMeasurable = false;
#else
constexpr bool kMemoryIsMeasurable = true;
#endif
}  // namespace
using conformance::for_each_language;
using conformance::Language;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t open_descriptors() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++count;
    return count;
}

// Processes whose parent is this one, zombies included.

std::size_t status_kib(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with(field + ":")) return std::stoul(line.substr(field.size() + 1));
    return 0;
}

// What the host holds before a fault; check() says whether it holds the same afterwards, and
// that a new bond of `lang` still works.
struct HostHealth {
    std::size_t descriptors = open_descriptors();
    std::size_t children = children_of(::getpid()).size();

    void check(const std::string& lang = "Python") const {
        CHECK(open_descriptors() == descriptors);
        CHECK(children_of(::getpid()).size() == children);
        for (const Language& language : conformance::languages()) {
            if (language.name != lang) continue;
            bond::Bond fresh = bond::make_bond(lang);
            fresh.eval_block(language.define_ident);
            CHECK(fresh.call("ident", 3) == 3);
        }
    }
};

bond::Bond hostile(const std::string& scenario, bond::Options options = {}) {
    options.command = std::string(BOND_HOSTILE_DRIVER) + " " + scenario;
    options.def_args = false;
    return bond::make_bond("Python", std::move(options));
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class Exception, class F>
std::string thrown_message(F&& f) {
    try {
        f();
    } catch (const Exception& error) {
        return error.what();
    } catch (const std::exception& error) {
        FAIL("another exception: ", std::string(error.what()));
        return "";
    }
    FAIL("no exception");
    return "";
}

// Reads `fd` until `done` says the text read so far is enough, or to its end; a guard of 60 s
// against a driver that hangs.
template <class Done>
std::string read_until(int fd, Done done) {
    std::string text;
    char buffer[4096];
    while (!done(text)) {
        pollfd readable{fd, POLLIN, 0};
        if (::poll(&readable, 1, 60'000) != 1) break;
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        REQUIRE(n > 0);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Starts `words` (the first found on PATH), each (from, to) of `descriptors` its descriptor `to`.
pid_t spawn(std::vector<std::string> words,
            std::initializer_list<std::pair<int, int>> descriptors) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (auto [from, to] : descriptors) posix_spawn_file_actions_adddup2(&actions, from, to);
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int failed = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(failed == 0);
    return pid;
}

}  // namespace

TEST_CASE("a co-process killed with SIGKILL mid-call is a TerminatedException within 1 s") {
    for_each_language([](const Language& language) {
        HostHealth health;
        {
            Clock::time_point killed;
            bond::Bond remote =
                bond::make_bond(language.name, {.on_output = [&](bond::Channel, std::string_view) {
                                    // The code has started: it prints, then sleeps.
                                    if (killed == Clock::time_point{}) {
                                        killed = Clock::now();
                                        ::kill(remote.pid(), SIGKILL);
                                    }
                                }});
            std::string message = thrown_message<bond::TerminatedException>([&] {
                remote.eval_block(language.print_line("sleeping") + "\n" + language.sleep_forever);
            });
            CHECK(seconds_since(killed) < 1.0);
            CHECK(message.find("during a call") != std::string::npos);
            CHECK(!remote.alive());
        }
        health.check(language.name);
    });
}

TEST_CASE(
    "a co-process killed with SIGKILL inside a nested call is a TerminatedException "
    "within 1 s") {
    for_each_language([](const Language& language) {
        HostHealth health;
        {
            bond::Bond remote = bond::make_bond(language.name);
            Clock::time_point killed;
            remote.export_function("killme", [&] {
                killed = Clock::now();
                ::kill(remote.pid(), SIGKILL);
                return 1;
            });
            std::string message = thrown_message<bond::TerminatedException>(
                [&] { remote.eval(language.call_export("killme")); });
            CHECK(seconds_since(killed) < 1.0);
            CHECK(message.find("killed by signal 9") != std::string::npos);
        }
        health.check(language.name);
    });
}

TEST_CASE("a co-process killed with SIGKILL while idle fails the next call within 1 s") {
    for_each_language([](const Language& language) {
        HostHealth health;
        {
            bond::Bond remote = bond::make_bond(language.name);
            remote.eval_block(language.define_ident);
            ::kill(remote.pid(), SIGKILL);
            auto start = Clock::now();
            std::string message =
                thrown_message<bond::TerminatedException>([&] { remote.call("ident", 1); });
            CHECK(seconds_since(start) < 1.0);
            CHECK(message.find("killed by signal 9") != std::string::npos);
        }
        health.check(language.name);
    });
}

TEST_CASE("a driver that misses the first interrupt is interrupted again well within the grace") {
    // A signal that lands just before the code enters a blocking call (Perl's sleep, Python's
    // time.sleep) is only handled once that call returns: the host repeats the interrupt.
    HostHealth health;
    {
        bond::Bond remote = hostile("deaf-once", {.limits = {.grace = 20s}});
        auto start = Clock::now();
        std::string message = thrown_message<bond::LimitExceeded>(
            [&] { remote.with_limits({.wall = 100ms}).call("run"); });
        CHECK(message.find("ran longer than its time limit of 100 ms") != std::string::npos);
        CHECK(message.find("killed") == std::string::npos);
        CHECK(seconds_since(start) < 10.0);
        CHECK(remote.alive());
        CHECK(remote.call("interrupts_seen") == 2);
    }
    health.check();
}

TEST_CASE("a co-process that closes its stdout and keeps running is ended") {
    HostHealth health;
    {
        bond::Bond remote = hostile("close-stdout");
        std::string message =
            thrown_message<bond::TerminatedException>([&] { remote.call("f", 1); });
        // It ignores SIGTERM: the stop sequence ends with SIGKILL.
        CHECK(message.find("killed by signal 9") != std::string::npos);
        CHECK(message.find("during a call") != std::string::npos);
    }
    health.check();
}

TEST_CASE("a co-process that writes half a line and exits is a TerminatedException") {
    HostHealth health;
    {
        bond::Bond remote = hostile("half-line-exit");
        std::string message =
            thrown_message<bond::TerminatedException>([&] { remote.call("f", 1); });
        CHECK(message.find("exited with status 3") != std::string::npos);
    }
    health.check();
}

TEST_CASE("a co-process that stops reading while the host writes 16 MiB cannot block the host") {
    HostHealth health;
    {
        bond::Bond remote = hostile("no-read", {.timeout = 2s});
        std::string big(16 << 20, 'x');
        std::string message =
            thrown_message<bond::TimeoutException>([&] { remote.call("f", big); });
        CHECK(message.find("timed out waiting for a reply") != std::string::npos);
        CHECK(!remote.alive());
    }
    health.check();
}

TEST_CASE("a reply that is not a message is a clear BondException and closes the bond") {
    struct Case {
        const char* scenario;
        const char* says;
    };
    for (const Case& fault : {
             Case{"not-json", "protocol error: not valid JSON: Invalid value (at byte 2 of 18)"},
             Case{"wrong-shape", "a reply must have exactly one of \"result\" and \"error\""},
             Case{"array", "a message must be a JSON object"},
             Case{"unknown-id", "a reply to request 1001 while request 1 was awaited"},
             Case{"deep", "JSON nested more than 10000 levels deep"},
             Case{"invalid-utf8", "not valid JSON: Invalid encoding in string (at byte"},
             Case{"nul", "not valid JSON: a NUL byte, which JSON allows only escaped, as \\u0000"},
             Case{"nul", "\"result\":\"a\\x00b\"}"},  // the excerpt shows the NUL
         }) {
        std::string scenario = fault.scenario;
        CAPTURE(scenario);
        HostHealth health;
        {
            bond::Bond remote = hostile(fault.scenario);
            std::string message = thrown_message<bond::BondException>([&] { remote.call("f", 1); });
            CAPTURE(message);
            CHECK(message.find(fault.says) != std::string::npos);
            CHECK(message.find("the bond is closed") != std::string::npos);
            CHECK(!remote.alive());
            CHECK_THROWS_AS(remote.call("f", 1), bond::TerminatedException);
        }
        health.check();
    }
}

TEST_CASE("a line longer than max_message_size is refused before it is read to its end") {
    HostHealth health;
    {
        bond::Bond remote = hostile("long-line", {.max_message_size = 1 << 20});
        std::ofstream("/proc/self/clear_refs") << "5";  // the peak starts from here
        std::size_t before = status_kib("VmRSS");
        std::string message = thrown_message<bond::BondException>([&] { remote.call("f", 1); });
        CHECK(message.find("a message of more than 1048576 bytes") != std::string::npos);
        // 8 MiB were sent; the host held no more than the limit and a read's worth.
        if (kMemoryIsMeasurable) CHECK(status_kib("VmHWM") - before < 4096);
    }
    health.check();
}

TEST_CASE("the remote reaches nothing but the host's exports, and gets ordinary errors") {
    HostHealth health;
    {
        bond::Bond remote = hostile("call-host");
        int calls = 0;
        remote.export_function("add", [&](int a, int b) {
            ++calls;
            return a + b;
        });
        // remote.call(NAME, ARGS...): what the hostile co-process got back when it called the
        // host's NAME(ARGS...) itself.
        CHECK(remote.call("add", 1, 2)["result"] == 3);
        bond::Value missing = remote.call("system", "rm -rf /");
        CHECK(missing["error"]["code"] == -32601);
        CHECK(missing["error"]["message"] == "no exported function named 'system'");
        bond::Value arity = remote.call("add", 1);
        CHECK(arity["error"]["code"] == -32000);
        CHECK(arity["error"]["message"] == "expected 2 arguments, got 1");
        CHECK(remote.call("add", 1, 2, 3)["error"]["code"] == -32000);
        bond::Value types = remote.call("add", "one", "two");
        CHECK(types["error"]["code"] == -32000);
        CAPTURE(types);
        CHECK(types["error"]["message"].get<std::string>().find("(string) has the wrong type") !=
              std::string::npos);
        CHECK(calls == 1);
        CHECK(remote.alive());
    }
    {
        bond::Bond remote = hostile("request-host");
        remote.export_function("f", [] { return 1; });
        auto ask = [&](bond::Value message) { return remote.call("f", message); };
        bond::Value eval =
            ask({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "eval"}, {"params", {{"code", "1"}}}});
        CHECK(eval["error"]["code"] == -32601);
        bond::Value no_name = ask({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "call"}});
        CHECK(no_name["error"]["code"] == -32601);
        bond::Value bad_args = ask({{"jsonrpc", "2.0"},
                                    {"id", 7},
                                    {"method", "call"},
                                    {"params", {{"name", "f"}, {"args", "x"}}}});
        CHECK(bad_args["error"]["code"] == -32602);
        CHECK(remote.alive());
    }
    health.check();
}

TEST_CASE("10,000 open, call, close cycles leave no descriptors, processes or memory behind") {
    auto cycle = [](int i) {
        bond::Bond remote = hostile("echo");
        REQUIRE(remote.call("ident", i) == i);
    };
    for (int i = 0; i < 100; ++i) cycle(i);  // what is allocated once, for good, is there now
    HostHealth health;
    std::size_t rss = status_kib("VmRSS");
    for (int i = 0; i < 10'000; ++i) cycle(i);
    CHECK(open_descriptors() == health.descriptors);
    CHECK(children_of(::getpid()).size() == health.children);
    if (kMemoryIsMeasurable) CHECK(status_kib("VmRSS") < rss + 1024);
}

TEST_CASE("an interpreter whose host was killed ends by itself, work left behind or not") {
    // Code that keeps the interpreter busy after the end of its input: what the host's close()
    // would end after its grace period, if the host were still there.
    std::map<std::string, std::string> leaves_work = {
        {"Python",
         "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()\n"},
        {"JavaScript", "setInterval(() => {}, 1000);"},
    };
    for_each_language([&](const Language& language) {
        std::string code =
            leaves_work.count(language.name) ? leaves_work[language.name] : language.set_global;
        int output[2];
        REQUIRE(::pipe2(output, O_CLOEXEC) == 0);
        pid_t host = spawn({BOND_ORPHANING_HOST, language.name, code}, {{output[1], 1}});
        ::close(output[1]);
        std::string line;
        char c;
        while (::read(output[0], &c, 1) == 1 && c != '\n') line += c;
        ::close(output[0]);
        REQUIRE(!line.empty());
        int interpreter = std::stoi(line);
        int watch = static_cast<int>(::syscall(SYS_pidfd_open, interpreter, 0));
        REQUIRE(watch >= 0);

        ::kill(host, SIGKILL);
        ::waitpid(host, nullptr, 0);
        auto killed = Clock::now();
        pollfd ended{watch, POLLIN, 0};
        CHECK(::poll(&ended, 1, 30'000) == 1);  // a guard against a hang, not a measure
        CHECK(seconds_since(killed) < 10);
        ::close(watch);
    });
}

// A host that is not bond::Bond: the interpreter started and bootstrapped as the driver registry
// says, then sent a line only a broken host would send. The driver must not take it for the
// reply it waits for, nor ignore it: it ends with status 70 and says why on its stderr.
TEST_CASE("a driver ends with status 70 on a reply to a request it never sent") {
    for_each_language([](const Language& language) {
        const auto* driver = bond::detail::find_driver(language.name);
        REQUIRE(driver != nullptr);
        int in[2], out[2], err[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        std::vector<std::string> words = {driver->command};
        words.insert(words.end(), driver->default_args.begin(), driver->default_args.end());
        pid_t pid = spawn(words, {{in[0], 0}, {out[1], 1}, {err[1], 2}});
        for (int fd : {in[0], out[1], err[1]}) ::close(fd);

        write_all(in[1], driver->bootstrap(driver->source));
        std::string stdout_text = read_until(out[0], [](const std::string& text) {
            return text.find("\"method\":\"ready\"") != std::string::npos && text.back() == '\n';
        });
        CHECK(stdout_text.find("\"method\":\"ready\"") != std::string::npos);
        // An id the host never received a request with: the driver sent none yet.
        write_all(in[1], "{\"jsonrpc\":\"2.0\",\"id\":41,\"result\":null}\n");
        ::close(in[1]);  // a driver that ignored the line would then end with status 0
        std::string stderr_text = read_until(err[0], [](const std::string&) { return false; });
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        ::close(out[0]);
        ::close(err[0]);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 70);
        CHECK(stderr_text.find("bond driver: a reply to a request never sent") !=
              std::string::npos);
    });
}
