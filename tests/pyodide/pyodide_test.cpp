// Pyodide (Python in WebAssembly): what the conformance suite checks, on as few bonds as the
// cases allow (a cold start takes seconds), and each door of the sandbox tested as closed: host
// files, processes, the network, JavaScript's globals and Pyodide's API, the Function
// constructor, signals to other processes. Real node processes, no mocks.
#include <bond/bond.hpp>

#include <doctest/doctest.h>

#include "../support/test_bond.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

using bond::Value;
using namespace std::chrono_literals;

namespace {

struct Collected {
    std::mutex mutex;
    std::string stdout_text, stderr_text;
};

bond::Bond make_pyodide(Collected* output = nullptr, bond::Options options = {}) {
    if (output != nullptr)
        options.on_output = [output](bond::Channel channel, std::string_view data) {
            std::lock_guard lock(output->mutex);
            (channel == bond::Channel::Stdout ? output->stdout_text : output->stderr_text) += data;
        };
    return make_quiet_bond("Pyodide", std::move(options));
}

// A listening TCP socket on 127.0.0.1: whether anyone connected to it.
struct Listener {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    Listener() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        socklen_t size = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
        port = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd); }
    bool connected() const {
        pollfd ready{fd, POLLIN, 0};
        return ::poll(&ready, 1, 0) > 0;
    }
};

// Whether this node can run Pyodide (Node.js 20 or later, for --experimental-permission). When it
// cannot, the test is skipped ("BOND-SKIP:", which ctest reports as such), or fails under CI.
bool node_is_recent() {
    std::string version;
    if (FILE* pipe = ::popen("node -p process.versions.node 2>/dev/null", "r")) {
        char buffer[64];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) version += buffer;
        ::pclose(pipe);
    }
    if (std::atoi(version.c_str()) >= 20) return true;
    if (std::getenv("CI") != nullptr) {
        FAIL_CHECK("CI must run this, but Pyodide needs Node.js 20 or later; node is '" << version
                                                                                        << "'");
        return false;
    }
    std::cout << "BOND-SKIP: Pyodide needs Node.js 20 or later" << std::endl;
    return false;
}

}  // namespace

TEST_CASE("Pyodide: eval, eval_block, call, export, output, errors at the user's file and line") {
    if (!node_is_recent()) return;
    Collected output;
    auto py = make_pyodide(&output);
    CHECK(py.lang() == "Pyodide");
    CHECK(py.eval("2 * 21") == 42);
    CHECK(py.eval("'h\\u00e9' + 'llo'") == "héllo");
    CHECK(py.eval("[1, 2.5, None, {'a': True}]") == Value::parse(R"([1, 2.5, null, {"a": true}])"));
    CHECK(py.eval("b'\\x00\\xffA'") == Value::binary({0x00, 0xff, 0x41}));

    py.eval_block("def add(a, b):\n    return a + b\nx = 5\n");
    CHECK(py.call("add", 2, 3) == 5);
    CHECK(py.eval("x") == 5);

    py.export_function("twice", [](int n) { return 2 * n; });
    CHECK(py.eval("twice(21)") == 42);
    // Nesting: the exported function calls back into Python.
    py.export_function("up", [&py](int n) { return py.call("down", n).get<int>(); });
    py.eval_block("def down(n):\n    return 0 if n == 0 else up(n - 1) + 1\n");
    CHECK(py.call("down", 10) == 10);
    py.export_function("thrower", []() -> int { throw std::runtime_error("from C++"); });
    py.eval_block(
        "def catching():\n    try:\n        thrower()\n    except Exception as e:\n"
        "        return str(e)\n");
    CHECK(py.call("catching").get<std::string>().find("from C++") != std::string::npos);

    py.eval_block("print('to stdout')\nimport sys\nprint('to stderr', file=sys.stderr)\n");
    CHECK(py.eval("1") == 1);  // output before a reply arrives before it
    {
        std::lock_guard lock(output.mutex);
        CHECK(output.stdout_text == "to stdout\n");
        CHECK(output.stderr_text == "to stderr\n");
    }

    py.eval_block("def f():\n    raise ValueError('boom')\n\ndef g():\n    f()\n", "script.py");
    try {
        py.call("g");
        FAIL("no RemoteException");
    } catch (const bond::RemoteException& error) {
        CHECK(error.message() == "ValueError: boom");
        REQUIRE(error.stack().size() == 2);
        CHECK(error.stack()[0].file == "script.py");
        CHECK(error.stack()[0].line == 2);
        CHECK(error.stack()[0].function == "f");
        CHECK(error.stack()[1].line == 5);
    }
    try {
        py.eval_block("x = 1\ny = (\n", "broken.py");
        FAIL("no RemoteException");
    } catch (const bond::RemoteException& error) {
        CHECK(error.message().rfind("SyntaxError", 0) == 0);
        REQUIRE(!error.stack().empty());
        CHECK(error.stack()[0].file == "broken.py");
    }
    CHECK(remote_error(py, "undefined_function()") ==
          "NameError: name 'undefined_function' is not defined");

    // Remote objects: a class instance stays in Pyodide, used through its handle.
    py.eval_block(
        "class Tally:\n    def __init__(self):\n        self.total = 0\n"
        "    def add(self, n):\n        self.total += n\n        return self.total\n");
    bond::Object tally = py.object("Tally()");
    CHECK(tally.call("add", 4) == 4);
    CHECK(tally.call("add", 3) == 7);
    CHECK(tally.get("total") == 7);
    CHECK(py.eval("len(__import__('gc').get_objects()) > 0") == true);

    // User code that clobbers the modules the driver ends with: close still ends cleanly, with
    // no traceback.
    py.eval_block(
        "import atexit, traceback\n"
        "atexit._run_exitfuncs = None\n"
        "traceback.format_exception = None\n");
    py.close();
    CHECK(!py.alive());
    {
        std::lock_guard lock(output.mutex);
        CHECK(output.stdout_text == "to stdout\n");
        CHECK(output.stderr_text == "to stderr\n");
    }
}

TEST_CASE("Pyodide is locked down: each door to the host is closed") {
    if (!node_is_recent()) return;
    Collected output;
    auto py = make_pyodide(&output);

    // Host files: the file system is Pyodide's own, in memory; the host's files are not there.
    std::string secret = "/tmp/bond-pyodide-secret-" + std::to_string(::getpid());
    std::ofstream(secret) << "secret";
    CHECK(remote_error(py, "open('" + secret + "').read()").find("FileNotFoundError") == 0);
    CHECK(remote_error(py, "open('/etc/passwd').read()").find("FileNotFoundError") == 0);
    py.eval_block("with open('/tmp/mine', 'w') as f:\n    f.write('written')\n");
    CHECK(py.eval("open('/tmp/mine').read()") == "written");
    std::remove(secret.c_str());

    // Processes: subprocess is refused; os.system starts nothing (status 127, "not found").
    CHECK(remote_error(py, "import subprocess; subprocess.run(['id'])")
              .find("does not support processes") != std::string::npos);
    std::string marker = "/tmp/bond-pyodide-system-" + std::to_string(::getpid());
    CHECK(py.eval("__import__('os').system('touch " + marker + "')") == 127 << 8);
    CHECK(!std::ifstream(marker).good());

    // The network: a socket to a port listening on the host never connects.
    Listener listener;
    CHECK(remote_error(py, "import socket; socket.create_connection(('127.0.0.1', " +
                               std::to_string(listener.port) + "), timeout=2)")
              .rfind("OSError: [Errno 23] Host is unreachable", 0) == 0);
    CHECK(!listener.connected());

    // JavaScript: no `js` (the globals, process, require) and no `pyodide_js` (FS.mount of the
    // host's files), nor the driver's own channel.
    CHECK(remote_error(py, "import js") == "ModuleNotFoundError: No module named 'js'");
    CHECK(remote_error(py, "import pyodide_js") ==
          "ModuleNotFoundError: No module named 'pyodide_js'");
    CHECK(remote_error(py, "import _bond_io") == "ModuleNotFoundError: No module named '_bond_io'");
    CHECK(remote_error(py, "from pyodide.code import run_js; run_js('process')")
              .find("No module named 'js'") != std::string::npos);
    // The Function constructor, reached from any JavaScript object, generates no code.
    CHECK(remote_error(py,
                       "from pyodide.ffi import to_js\n"
                       "to_js({}).constructor.constructor('return process')()\n")
              .find("Code generation from strings disallowed") != std::string::npos);

    // Signals to other processes, and the environment: nothing of the host's.
    CHECK(remote_error(py, "import os; os.kill(1, 9)").find("PermissionError") == 0);
    CHECK(py.eval("'PATH' in __import__('os').environ and __import__('os').environ['PATH']") ==
          "/");
    CHECK(py.eval("__import__('os').environ.get('USER')") == "web_user");

    // The host's exports are the way out.
    py.export_function("host_secret", []() { return std::string("given by the host"); });
    CHECK(py.eval("host_secret()") == "given by the host");
    CHECK(py.eval("1") == 1);
}

TEST_CASE(
    "Pyodide: interrupt, the wall, CPU and memory limits and runaway code, and the bond goes on") {
    if (!node_is_recent()) return;
    auto py = make_pyodide();
    py.eval_block("kept = 'still here'\n");

    // interrupt() from another thread stops a loop with no calls in it, and a sleep: the code
    // calls started() just before it, and the other thread interrupts once it has.
    std::mutex mutex;
    std::condition_variable changed;
    bool started = false;
    py.export_function("started", [&] {
        std::lock_guard lock(mutex);
        started = true;
        changed.notify_all();
    });
    for (std::string loop :
         {"started()\nwhile True: pass", "import time\nstarted()\ntime.sleep(1000)"}) {
        INFO(loop);
        started = false;
        std::thread stopper([&] {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return started; });
            py.interrupt();
        });
        CHECK_THROWS_AS(py.eval_block(loop), bond::Interrupted);
        stopper.join();
        CHECK(py.eval("kept") == "still here");
    }

    CHECK_THROWS_AS(py.with_limits({.wall = 500ms}).eval_block("while True: pass"),
                    bond::LimitExceeded);
    try {
        py.with_limits({.cpu = 500ms}).eval_block("while True: pass");
        FAIL("no LimitExceeded");
    } catch (const bond::LimitExceeded& error) {
        CHECK(error.limit() == "cpu");
    }
    try {
        py.with_limits({.memory = std::size_t{64} << 20})
            .eval_block("x = []\nwhile True: x.append(bytearray(1 << 20))\n");
        FAIL("no LimitExceeded");
    } catch (const bond::LimitExceeded& error) {
        CHECK(error.limit() == "memory");
    }
    CHECK(py.eval("kept") == "still here");
    // Without a limit the memory grows again.
    CHECK(py.eval("len(bytearray(200 << 20))") == 200 << 20);

    // Code that catches every interrupt is killed after the grace period: the bond ends, and a
    // new one starts.
    CHECK_THROWS_AS(py.with_limits({.wall = 300ms, .grace = 500ms})
                        .eval_block("while True:\n    try:\n        while True: pass\n"
                                    "    except BaseException:\n        pass\n"),
                    bond::BondException);
    CHECK(!py.alive());
    auto again = make_pyodide();
    CHECK(again.eval("1 + 1") == 2);

    // C recursion deep enough to overflow WebAssembly's stack ends the interpreter, not the host.
    CHECK_THROWS_AS(again.eval("__import__('json').loads('[' * 100000 + ']' * 100000)"),
                    bond::TerminatedException);
    CHECK(!again.alive());
    auto third = make_pyodide();
    CHECK(third.eval("'ok'") == "ok");
}

TEST_CASE("Pyodide: a node older than 20 is a BondException that names the version it needs") {
    if (!node_is_recent()) return;
    // Node 18 is faked: its version, preloaded into the node the host starts.
    std::string fake = "/tmp/bond-pyodide-node18-" + std::to_string(::getpid()) + ".js";
    std::ofstream(fake) << "Object.defineProperty(process.versions, 'node', {value: '18.20.4'});\n";
    bond::Options options;
    options.env = std::map<std::string, std::string>{{"PATH", std::getenv("PATH")},
                                                     {"NODE_OPTIONS", "--require " + fake}};
    try {
        make_pyodide(nullptr, options);
        FAIL("no BondException");
    } catch (const bond::BondException& error) {
        CHECK(std::string(error.what())
                  .find("Pyodide needs Node.js 20 or later; this node is 18.20.4 (") !=
              std::string::npos);
    }
    std::remove(fake.c_str());
}

TEST_CASE("Pyodide: a missing package or node is a BondException that says what to install") {
    if (!node_is_recent()) return;
    {
        bond::Options options;
        options.env = std::map<std::string, std::string>{
            {"PATH", std::getenv("PATH")}, {"BOND_PYODIDE_DIR", "/nonexistent/pyodide"}};
        try {
            make_pyodide(nullptr, options);
            FAIL("no BondException");
        } catch (const bond::BondException& error) {
            std::string message = error.what();
            CHECK(message.find("Pyodide is not installed") != std::string::npos);
            CHECK(message.find("/nonexistent/pyodide") != std::string::npos);
            CHECK(message.find("scripts/setup") != std::string::npos);
        }
    }
    bond::Options options;
    options.command = "/nonexistent/node";
    try {
        make_pyodide(nullptr, options);
        FAIL("no BondException");
    } catch (const bond::BondException& error) {
        // The generic transport's message: it names the missing interpreter, not yet what to
        // install (Node.js 20 or later).
        CHECK(std::string(error.what())
                  .find("interpreter not found: '/nonexistent/node' is not an executable file") !=
              std::string::npos);
    }
}
