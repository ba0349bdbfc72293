// Python's own rules, beyond the conformance suite: interpreter arguments, stdin, exit, callable
// expressions, the driver's privacy, output from threads and binary streams.
#include <bond/bond.hpp>

#include <doctest/doctest.h>

#include "../support/captured_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

using bond::Channel;
using bond::Value;
using namespace std::chrono_literals;

TEST_CASE("args are appended after the default arguments, def_args = false drops those") {
    bond::Bond dev = bond::make_bond("Python", {.args = {"-X", "dev"}});
    CHECK(dev.eval("__import__('sys').flags.dev_mode") == true);
    CHECK(dev.eval("__import__('sys').flags.interactive") == 1);

    bond::Bond bare = bond::make_bond("Python", {.args = {"-i", "-q"}, .def_args = false});
    CHECK(bare.eval("1 + 1") == 2);
    CHECK(bare.eval("'-u' in __import__('sys').orig_argv") == false);
    CHECK(dev.eval("'-u' in __import__('sys').orig_argv") == true);
}

TEST_CASE("the interpreter has site's work done, without the interactive hook's imports") {
    // bond starts Python with -S and runs site.main() itself (driver_registry.cpp).
    bond::Bond python = bond::make_bond("Python");
    CHECK(python.eval("any(p.endswith(('site-packages', 'dist-packages')) for p in "
                      "__import__('sys').path)") == true);
    CHECK(python.eval("callable(exit) and callable(quit) and callable(help)") == true);
    CHECK(python.eval("'rlcompleter' in __import__('sys').modules") == false);
}

// The environment of the host with HOME replaced, PYTHONDONTWRITEBYTECODE as given and
// PYTHONNOUSERSITE unset (either would keep the cache from being written).
std::map<std::string, std::string> environment_with_home(const std::filesystem::path& home,
                                                         bool write_bytecode = true) {
    std::map<std::string, std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string text = *entry;
        auto equals = text.find('=');
        if (equals != std::string::npos)
            environment[text.substr(0, equals)] = text.substr(equals + 1);
    }
    environment["HOME"] = home.string();
    environment.erase("PYTHONDONTWRITEBYTECODE");
    environment.erase("PYTHONNOUSERSITE");
    if (!write_bytecode) environment["PYTHONDONTWRITEBYTECODE"] = "1";
    return environment;
}

namespace {

// A home of the test's own under the temporary directory, removed when the test ends however it
// ends (a failed REQUIRE included).
struct TemporaryHome {
    std::filesystem::path path;
    std::filesystem::path cache;
    explicit TemporaryHome(const std::string& name)
        : path(std::filesystem::temp_directory_path() /
               ("bond-cache-" + name + "-" + std::to_string(::getpid()))),
          cache(path / ".cache" / "bond" / "python") {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    TemporaryHome(const TemporaryHome&) = delete;
    TemporaryHome& operator=(const TemporaryHome&) = delete;
    ~TemporaryHome() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

std::vector<std::filesystem::path> files_in(const std::filesystem::path& directory) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) files.push_back(entry);
    std::sort(files.begin(), files.end());
    return files;
}

// Whether a start with this home runs code planted in its cache (see plant).
bool runs_planted(const std::filesystem::path& home) {
    bond::Bond python = bond::make_bond("Python", {.env = environment_with_home(home)});
    return python.eval("globals().get('planted')") == 1;
}

// Rewrites a cache file with code compiled from a driver that marks __main__ (`planted`), the
// header and source kept, then changed by `change` (Python statements on `data`, a bytearray).
void plant(const std::filesystem::path& file, const std::string& change = "") {
    bond::Bond python = bond::make_bond("Python", {.args = {"-s"}});  // -s: no cache of its own
    python.eval_block(
        "import marshal\n"
        "def plant(path):\n"
        "    data = open(path, 'rb').read()\n"
        "    size = int.from_bytes(data[5:13], 'little')\n"
        "    source = data[13:13 + size]\n"
        "    marked = source.replace(b'\\nmain()\\n', b'\\n__main__.planted = 1\\nmain()\\n')\n"
        "    assert marked != source\n"
        "    code = compile(marked, '<bond-driver>', 'exec')\n"
        "    data = bytearray(data[:13 + size] + marshal.dumps(code))\n" +
        (change.empty() ? std::string() : "    " + change + "\n") +
        "    open(path, 'wb').write(data)\n");
    python.call("plant", file.string());
}

}  // namespace

TEST_CASE(
    "the driver's compiled code is cached in the user's home, and only a file of theirs is used") {
    // drivers/python/loader.py. A cache file holds the source it was compiled from: a planted one
    // holds code compiled from a driver that marks __main__, which a start then runs, unless the
    // file could have been written by another user or does not match this driver.
    TemporaryHome home("use");
    using std::filesystem::perms;

    bond::make_bond("Python", {.env = environment_with_home(home.path, false)}).eval("1");
    CHECK(!std::filesystem::exists(home.path / ".cache"));  // PYTHONDONTWRITEBYTECODE
    auto no_user_site = environment_with_home(home.path);
    no_user_site["PYTHONNOUSERSITE"] = "1";
    bond::make_bond("Python", {.env = no_user_site}).eval("1");
    CHECK(!std::filesystem::exists(home.path / ".cache"));  // PYTHONNOUSERSITE

    bond::make_bond("Python", {.env = environment_with_home(home.path)}).eval("1");
    auto files = files_in(home.cache);
    REQUIRE(files.size() == 1);
    std::string optimize = "-opt-0-";
    CHECK(files[0].filename().string().find(optimize) != std::string::npos);
    CHECK((std::filesystem::status(files[0]).permissions() & perms::all) ==
          (perms::owner_read | perms::owner_write));
    for (auto directory : {home.path / ".cache", home.path / ".cache" / "bond", home.cache})
        CHECK((std::filesystem::status(directory).permissions() & perms::all) == perms::owner_all);
    std::ifstream original_stream(files[0], std::ios::binary);
    std::string original((std::istreambuf_iterator<char>(original_stream)), {});
    original_stream.close();

    plant(files[0]);
    CHECK(runs_planted(home.path));  // what each case below must refuse

    SUBCASE("not a file that others may write") {
        std::filesystem::permissions(files[0], perms::group_write,
                                     std::filesystem::perm_options::add);
        CHECK(!runs_planted(home.path));
    }
    SUBCASE("not from a directory that others may write, the cache's or one above it") {
        std::filesystem::permissions(home.cache, perms::group_write,
                                     std::filesystem::perm_options::add);
        CHECK(!runs_planted(home.path));
        std::filesystem::permissions(home.cache, perms::group_write,
                                     std::filesystem::perm_options::remove);
        CHECK(runs_planted(home.path));
        std::filesystem::permissions(home.path / ".cache" / "bond", perms::others_write,
                                     std::filesystem::perm_options::add);
        CHECK(!runs_planted(home.path));
    }
    SUBCASE("not through a link, of the file or of a directory") {
        std::filesystem::rename(home.cache, home.path / "elsewhere");
        std::filesystem::create_directory_symlink("../../elsewhere", home.cache);
        CHECK(!runs_planted(home.path));
        CHECK(files_in(home.path / "elsewhere").size() == 1);  // nothing written there either
        std::filesystem::remove(home.cache);
        std::filesystem::rename(home.path / "elsewhere", home.cache);
        CHECK(runs_planted(home.path));
        std::filesystem::rename(home.path / ".cache" / "bond", home.path / "bond");
        std::filesystem::create_directory_symlink("../bond", home.path / ".cache" / "bond");
        CHECK(!runs_planted(home.path));
        std::filesystem::remove(home.path / ".cache" / "bond");
        std::filesystem::rename(home.path / "bond", home.path / ".cache" / "bond");
        CHECK(runs_planted(home.path));
        std::filesystem::rename(files[0], home.path / "planted");
        std::filesystem::create_symlink(home.path / "planted", files[0]);
        CHECK(!runs_planted(home.path));
    }
    SUBCASE("not with another Python's magic number") {
        plant(files[0], "data[0] ^= 1");
        CHECK(!runs_planted(home.path));
    }
    SUBCASE("not compiled from another source under the same name") {
        plant(files[0], "data[13] ^= 1");  // the source's first byte
        CHECK(!runs_planted(home.path));
    }
    SUBCASE("a truncated file is compiled again and written whole") {
        std::filesystem::resize_file(files[0], original.size() - 100);
        CHECK(!runs_planted(home.path));
        REQUIRE(files_in(home.cache) == files);
        std::ifstream rewritten_stream(files[0], std::ios::binary);
        std::string rewritten((std::istreambuf_iterator<char>(rewritten_stream)), {});
        CHECK(rewritten.size() == original.size());
        CHECK(rewritten == original);
    }
}

TEST_CASE("the driver's cache is not written under a home of another user (root with sudo -E)") {
    if (::geteuid() != 0) return;  // only root can give a home away
    TemporaryHome home("other");
    REQUIRE(::chown(home.path.c_str(), 65534, 65534) == 0);
    bond::Bond python = bond::make_bond("Python", {.env = environment_with_home(home.path)});
    CHECK(python.eval("1 + 1") == 2);
    CHECK(!std::filesystem::exists(home.path / ".cache"));
}

TEST_CASE("the driver's cache is used in a venv, where site's user site-packages are off") {
    TemporaryHome home("venv");
    auto venv = home.path / "venv";
    bond::Bond maker = bond::make_bond("Python", {.args = {"-s"}});
    maker.call("__import__('venv').create", venv.string());
    bond::Bond python = bond::make_bond("Python", {.command = (venv / "bin" / "python3").string(),
                                                   .env = environment_with_home(home.path)});
    CHECK(python.eval("__import__('sys').prefix != __import__('sys').base_prefix") == true);
    CHECK(files_in(home.cache).size() == 1);
}

TEST_CASE("storing the driver's compiled code removes the cache's other files of that Python") {
    TemporaryHome home("clean");
    bond::Bond first = bond::make_bond("Python", {.env = environment_with_home(home.path)});
    std::string tag = first.eval("__import__('sys').implementation.cache_tag").get<std::string>();
    auto current = files_in(home.cache);
    REQUIRE(current.size() == 1);
    std::filesystem::remove(current[0]);
    auto old = std::filesystem::file_time_type::clock::now() - std::chrono::minutes(2);
    std::vector<std::string> removed = {"driver-" + tag + "-opt-0-00000000.bin",
                                        "driver-" + tag + "-opt-2-12345678.bin",
                                        "driver-" + tag + "-opt-0-00000000.bin.99.tmp"};
    std::vector<std::string> kept = {"driver-cpython-00-opt-0-00000000.bin", "fresh.1.tmp",
                                     "notes.txt"};
    for (const auto& name : removed) std::ofstream(home.cache / name) << "x";
    for (const auto& name : kept) std::ofstream(home.cache / name) << "x";
    std::filesystem::last_write_time(home.cache / removed.back(), old);
    bond::make_bond("Python", {.env = environment_with_home(home.path)}).eval("1");
    for (const auto& name : removed) {
        CAPTURE(name);
        CHECK(!std::filesystem::exists(home.cache / name));
    }
    for (const auto& name : kept) {
        CAPTURE(name);
        CHECK(std::filesystem::exists(home.cache / name));
    }
    CHECK(std::filesystem::exists(current[0]));
}

TEST_CASE("call takes any callable expression") {
    bond::Bond py = bond::make_bond("Python");
    CHECK(py.call("str.upper", "abc") == "ABC");
    CHECK(py.call("'-'.join", std::vector<std::string>{"a", "b"}) == "a-b");
    CHECK(py.call("__import__('os').path.join", "a", "b") == "a/b");
    CHECK(py.call("lambda *a: len(a)", 1, 2, 3) == 3);
    py.eval_block(
        "class Counter:\n    def __init__(self): self.n = 0\n"
        "    def bump(self, by): self.n += by; return self.n\n"
        "counter = Counter()\n");
    CHECK(py.call("counter.bump", 2) == 2);
    CHECK(py.call("counter.bump", 3) == 5);
}

TEST_CASE("user code cannot see or clobber the driver") {
    bond::Bond py = bond::make_bond("Python");
    for (const char* name : {"_protocol_out", "_serve", "_output_lock", "main", "_METHODS"}) {
        CAPTURE(name);
        CHECK_THROWS_AS(py.eval(name), bond::RemoteException);
    }
    py.eval_block("_serve = None\n_send_line = None\njson = None\nos = None\n");
    CHECK(py.eval("1 + 1") == 2);
    py.export_function("twice", [](int x) { return 2 * x; });
    CHECK(py.eval("twice(4)") == 8);
}

TEST_CASE("user code that reassigns the C modules' functions the driver uses cannot break it") {
    // The driver uses _json, _thread, _signal, _struct and _weakref, not json, threading, signal,
    // struct and weakref (see the top of driver.py); its exit looks at threading's threads.
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.export_function("twice", [](int x) { return 2 * x; });
    py.eval_block(
        "import atexit, threading, _json, _thread, _signal, _struct, _weakref\n"
        "worker = threading.Thread(target=lambda: None)\n"
        "worker.start()\n"
        "atexit.register(print, 'atexit ran')\n"
        "for module in (_json, _thread, _signal, _struct, _weakref):\n"
        "    for name, value in list(vars(module).items()):\n"
        "        if callable(value) and not name.startswith('__'):\n"
        "            setattr(module, name, None)\n"
        "threading.current_thread = threading.get_ident = threading.enumerate = None\n"
        "threading.main_thread = threading._shutdown = None\n");
    CHECK(py.eval("1 + 1") == 2);
    CHECK(py.call("lambda x: x", Value{{"a", {1, "b", nullptr}}}) ==
          Value{{"a", {1, "b", nullptr}}});
    CHECK(py.eval("twice(4)") == 8);
    CHECK_THROWS_AS(py.eval("undefined_name"), bond::RemoteException);
    CHECK(py.eval("1 + 1") == 2);
    py.close();  // ends as an uncaught SystemExit(0) would: atexit functions run, nothing on stderr
    CHECK(output.stdout_text == "atexit ran\n");
    CHECK(output.stderr_text == "");
}

TEST_CASE("the driver runs without _json, with json's Python code") {
    auto directory =
        std::filesystem::temp_directory_path() / ("bond-no-json-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    struct Remove {
        std::filesystem::path path;
        ~Remove() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } remove{directory};
    std::ofstream(directory / "_json.py") << "raise ImportError('no _json here')\n";
    auto environment = environment_with_home(directory, false);
    environment["PYTHONPATH"] = directory.string();
    bond::Bond py = bond::make_bond("Python", {.env = environment});
    CHECK(py.eval("__import__('json').encoder.c_make_encoder is None") == true);
    Value mixed = {"text \u00e9",    1.5, -3, nullptr, true, Value::binary({0, 255}),
                   {{"key", {1, 2}}}};
    CHECK(py.call("lambda x: x", mixed) == mixed);
    CHECK(py.eval("0.1 + 0.2").get<double>() == 0.1 + 0.2);
}

TEST_CASE("stdin is empty for user code: input() cannot eat protocol bytes") {
    bond::Bond py = bond::make_bond("Python");
    CHECK_THROWS_WITH_AS(py.eval("input()"), doctest::Contains("EOFError"), bond::RemoteException);
    CHECK(py.eval("__import__('sys').stdin.read()") == "");
    CHECK(py.eval("2 + 2") == 4);
}

TEST_CASE("sys.exit ends the interpreter with its status") {
    bond::Bond py = bond::make_bond("Python");
    CHECK_THROWS_WITH_AS(py.eval_block("import sys\nsys.exit(2)"),
                         doctest::Contains("exited with status 2"), bond::TerminatedException);
    CHECK_FALSE(py.alive());
}

TEST_CASE("output of a thread after the call returned arrives with the next message") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block(
        "import threading\n"
        "go = threading.Event()\n"
        "worker = threading.Thread(target=lambda: (go.wait(), print('late')))\n"
        "worker.start()\n");
    py.eval_block("go.set()");  // returns while the thread may still be printing
    CHECK(py.eval("worker.join() or 7") == 7);
    CHECK(output.stdout_text == "late\n");
}

TEST_CASE("binary streams and file-descriptor writes keep their bytes and order") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block(
        "import os, sys\n"
        "sys.stdout.buffer.write(b'\\xff\\xfe')\n"
        "print('text', end='')\n"
        "os.write(1, b'fd1')\n"
        "print('err', file=sys.stderr)\n"
        "sys.stdout.write('x\\n')\n");
    CHECK(output.stdout_text == "\xff\xfetextfd1x\n");
    CHECK(output.stderr_text == "err\n");
    CHECK(output.all == "\xff\xfetextfd1err\nx\n");
}

TEST_CASE(
    "bytes-like values are bytes, an argument Python cannot send is a catchable TypeError, "
    "a raw export passes objects through") {
    bond::Bond py = bond::make_bond("Python");
    CHECK(py.eval("bytearray(b'ab')") == Value::binary({'a', 'b'}));
    CHECK(py.eval("memoryview(b'cd')") == Value::binary({'c', 'd'}));
    CHECK(py.eval("(1, b'')") == Value{1, Value::binary({})});
    py.export_function("ident", [](const Value& args) { return args; });
    py.eval_block(
        "def try_send():\n"
        "    try:\n"
        "        ident(float('nan'))\n"
        "    except TypeError as error:\n"
        "        return 'TypeError'\n");
    CHECK(py.call("try_send") == "TypeError");
    py.eval_block("thing = object()");
    CHECK(py.eval("ident(thing)[0] is thing") == true);
    CHECK(py.eval("ident(1, 'x')") == Value{1, "x"});
}

TEST_CASE("trans_except sends exception arguments JSON cannot carry as their repr") {
    bond::Bond py = bond::make_bond("Python", {.trans_except = true});
    try {
        py.eval_block("raise KeyError('k', {1, 2})");
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.data()["type"] == "KeyError");
        CHECK(error.data()["module"] == "builtins");
        CHECK(error.data()["args"] == Value{"'k'", "{1, 2}"});
    }
}

TEST_CASE("keywords are not valid export names") {
    bond::Bond py = bond::make_bond("Python");
    CHECK_THROWS_WITH_AS(py.export_function("class", [] { return 1; }),
                         doctest::Contains("not a valid Python function name"),
                         bond::BondException);
    CHECK(py.exports().empty());
}

TEST_CASE("forked workers print through the parent's driver, never onto the protocol") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block(
        "import multiprocessing\n"
        "def work(i):\n"
        "    print(str(i) * 20000)\n"
        "    return i\n"
        "with multiprocessing.get_context('fork').Pool(4) as pool:\n"
        "    results = pool.map(work, range(8))\n");
    CHECK(py.eval("results") == Value{0, 1, 2, 3, 4, 5, 6, 7});
    // Workers write to one pipe at once, so their lines may interleave as on a terminal; every
    // byte arrives.
    for (char digit = '0'; digit < '8'; ++digit)
        CHECK(std::count(output.stdout_text.begin(), output.stdout_text.end(), digit) == 20000);
    CHECK(std::count(output.stdout_text.begin(), output.stdout_text.end(), '\n') == 8);
    // An exported function cannot be called from a forked process: a clear error there.
    py.export_function("twice", [](int x) { return 2 * x; });
    py.eval_block(
        "import os\n"
        "reader, writer = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    try:\n"
        "        twice(1)\n"
        "    except RuntimeError as error:\n"
        "        os.write(writer, str(error).encode())\n"
        "    os._exit(0)\n"
        "os.close(writer)\n"
        "message = os.read(reader, 1000).decode()\n");
    CHECK(py.eval("message").get<std::string>().find("forked process") != std::string::npos);
    CHECK(py.eval("twice(21)") == 42);
}

TEST_CASE("an interpreter that exits while a forked child holds its stdout is seen to exit") {
    // libc's fork skips Python's at-fork hooks: the child keeps the protocol's stdout open.
    bond::Bond py = bond::make_bond("Python", {.timeout = 60s});
    CHECK_THROWS_WITH_AS(py.eval_block("import ctypes, os, time\n"
                                       "if ctypes.CDLL(None).fork() == 0:\n"
                                       "    time.sleep(1000)\n"
                                       "    os._exit(0)\n"
                                       "os._exit(3)\n"),
                         doctest::Contains("exited with status 3"), bond::TerminatedException);
}

TEST_CASE("output written while output is being written is kept, without deadlock") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    // str.__contains__ of the text runs inside the stream's write, with its lock held.
    py.eval_block(
        "import sys\n"
        "class Sneaky(str):\n"
        "    def __contains__(self, item):\n"
        "        print('nested')\n"
        "        return str.__contains__(self, item)\n"
        "sys.stdout.write(Sneaky('outer\\n'))\n");
    CHECK(output.stdout_text == "outer\nnested\n");
    CHECK(py.eval("1 + 1") == 2);
}

TEST_CASE("an exported function called from another thread is a clear error there") {
    bond::Bond py = bond::make_bond("Python");
    py.export_function("twice", [](int x) { return 2 * x; });
    py.eval_block(
        "import threading\n"
        "errors = []\n"
        "def worker():\n"
        "    try:\n"
        "        twice(1)\n"
        "    except RuntimeError as error:\n"
        "        errors.append(str(error))\n"
        "thread = threading.Thread(target=worker)\n"
        "thread.start()\n"
        "thread.join()\n");
    CHECK(py.eval("errors[0]").get<std::string>().find("thread") != std::string::npos);
    CHECK(py.eval("twice(21)") == 42);
}

TEST_CASE("text that is not valid Unicode is passed through, never fatal") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block("import sys\nsys.stdout.write('a\\ud800b')\n");
    CHECK(py.eval("1") == 1);
    CHECK(output.stdout_text ==
          "a\xed\xa0\x80"
          "b");
}

TEST_CASE("deep recursion in user code is a RecursionError, as in plain Python") {
    bond::Bond py = bond::make_bond("Python");
    py.eval_block("def f(x):\n    return list(map(f, [x]))\n");
    CHECK_THROWS_WITH_AS(py.call("f", 1), doctest::Contains("RecursionError"),
                         bond::RemoteException);
    CHECK(py.eval("1 + 1") == 2);
}

TEST_CASE("sys.exit behaves as in plain Python: no code is 0, a message is printed and 1") {
    bond::Bond quiet = bond::make_bond("Python");
    CHECK_THROWS_WITH_AS(quiet.eval_block("import sys\nsys.exit()"),
                         doctest::Contains("exited with status 0"), bond::TerminatedException);
    Output output;
    bond::Bond loud = bond::make_bond("Python", {.on_output = output.sink()});
    CHECK_THROWS_WITH_AS(loud.eval_block("import sys\nsys.exit('bye now')"),
                         doctest::Contains("exited with status 1"), bond::TerminatedException);
    CHECK(output.stderr_text == "bye now\n");
}

TEST_CASE("closing waits for the remote's threads, as Python's exit does, and keeps their output") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block(
        "import threading\n"
        "go = threading.Event()\n"
        "def chatter():\n"
        "    go.wait()\n"
        "    for i in range(2000):\n"
        "        print('x' * 99)\n"
        "threading.Thread(target=chatter).start()\n");
    py.eval_block("go.set()");
    py.eval_block("import atexit\natexit.register(lambda: print('atexit ran'))");
    py.close();
    std::string expected;
    for (int i = 0; i < 2000; ++i) expected += std::string(99, 'x') + "\n";
    CHECK(output.stdout_text.size() == expected.size() + 11);
    CHECK(output.stdout_text == expected + "atexit ran\n");
}

TEST_CASE("sys.stdout is a text stream as code expects") {
    bond::Bond py = bond::make_bond("Python");
    CHECK(py.eval("isinstance(__import__('sys').stdout, __import__('io').TextIOBase)") == true);
    CHECK(py.eval("__import__('sys').stdout.reconfigure(line_buffering=True)") == nullptr);
    CHECK(py.eval("__import__('sys').stdout.name") == "<stdout>");
    CHECK(py.eval("__import__('sys').stdout.fileno()") == 1);
}

TEST_CASE("the command is split into words like a shell would, and run without one") {
    bond::Bond py = bond::make_bond(
        "Python",
        {.command =
             "env 'BOND_SPACED=a b' \"BOND_QUOTED=it's \\\"so\\\"\" BOND_RAW=$HOME python3"});
    CHECK(py.eval("__import__('os').environ['BOND_SPACED']") == "a b");
    CHECK(py.eval("__import__('os').environ['BOND_QUOTED']") == "it's \"so\"");
    CHECK(py.eval("__import__('os').environ['BOND_RAW']") == "$HOME");  // no shell expansion
}

TEST_CASE("atexit functions cannot call the host that is closing the bond") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.export_function("bye", [] { return 1; });
    py.eval_block(
        "import atexit\n"
        "def at_exit():\n"
        "    try:\n"
        "        bye()\n"
        "    except RuntimeError as error:\n"
        "        print('refused:', error)\n"
        "atexit.register(at_exit)\n");
    py.close();
    CHECK(output.stdout_text == "refused: bye() cannot be called: the bond is closing\n");
}

TEST_CASE("sys.stdout.buffer is a binary stream that can be wrapped") {
    Output output;
    bond::Bond py = bond::make_bond("Python", {.on_output = output.sink()});
    py.eval_block(
        "import io, sys\n"
        "wrapped = io.TextIOWrapper(sys.stdout.buffer, encoding='latin-1', write_through=True)\n"
        "wrapped.write('\\xe9\\n')\n"
        "sys.stdout.buffer.writelines([b'a', b'b\\n'])\n");
    CHECK(output.stdout_text == "\xe9\nab\n");
}

TEST_CASE("tags an interpreter may not send are errors, and the bond goes on") {
    bond::Bond py = bond::make_bond("Python");
    // In a result: an object never lent, and code.
    CHECK_THROWS_AS(py.eval("{'$yours': 99}"), bond::BondException);
    CHECK_THROWS_AS(py.eval("[{'$code': 'x'}]"), bond::BondException);
    // In the arguments of an exported function: the code that called it gets the error.
    py.export_function("echo", [](const Value& args) { return args; });
    py.eval_block(
        "def try_echo(value):\n"
        "    try:\n"
        "        return echo(value)\n"
        "    except Exception as error:\n"
        "        return str(error)\n");
    CHECK(py.call("try_echo", py.ref("{'$code': '1 + 1'}")).get<std::string>().find("code") !=
          std::string::npos);
    CHECK(py.eval("1 + 1") == 2);
}

TEST_CASE("a proxy iterates over the value of the object it stands for") {
    bond::Bond py = bond::make_bond("Python");
    bond::Bond js = bond::make_bond("JavaScript");
    py.eval_block("def listed(p):\n    return list(p)\n");
    CHECK(py.call("listed", js.object("new Set([1, 2, 3])")) == Value{1, 2, 3});
}
