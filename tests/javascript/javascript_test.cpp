// JavaScript's own rules, beyond the conformance suite: callable expressions, Promises and the
// event loop, persistent declarations, require, output redirection (child processes and timers
// included), JavaScript's error model, value mapping and exported functions as plain functions.
#include <bond/bond.hpp>

#include <doctest/doctest.h>

#include "../support/captured_output.hpp"
#include "../support/test_bond.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>

using bond::Channel;
using bond::Value;
using namespace std::chrono_literals;

namespace {

bond::Bond make_js(bond::Options options = {}) {
    return make_quiet_bond("JavaScript", std::move(options));
}

// The message of the RemoteException `code` raises as an expression, or "no RemoteException".
std::string eval_error(bond::Bond& js, const std::string& code) {
    try {
        js.eval(code);
    } catch (const bond::RemoteException& error) {
        return error.message();
    }
    return "no RemoteException";
}

// A scratch directory, removed at the end of the test.
struct ScratchDirectory {
    std::filesystem::path path;
    ScratchDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "bond-js-test-XXXXXX").string();
        path = ::mkdtemp(pattern.data());
    }
    ~ScratchDirectory() { std::filesystem::remove_all(path); }
    void write(const std::filesystem::path& relative, const std::string& text) const {
        std::filesystem::create_directories((path / relative).parent_path());
        std::ofstream(path / relative) << text;
    }
};

}  // namespace

TEST_CASE("JavaScript is named case-insensitively and by its aliases") {
    for (const char* name : {"JavaScript", "javascript", "js", "JS", "node", "nodejs"}) {
        CAPTURE(name);
        bond::Bond js = bond::make_bond(name);
        CHECK(js.lang() == "JavaScript");
        CHECK(js.eval("2 * 21") == 42);
    }
}

TEST_CASE("node options given in args reach the driver's interpreter") {
    bond::Bond js = make_js({.args = {"--stack-size=500"}});
    CHECK(js.eval("process.execArgv.includes('--stack-size=500')") == true);
    CHECK(js.eval("process.execArgv.includes('-i')") == false);
}

TEST_CASE("a launcher that cannot start the driver ends at once with the reason") {
    std::map<std::string, std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string_view text = *entry;
        auto equals = text.find('=');
        if (equals != std::string_view::npos)
            environment[std::string(text.substr(0, equals))] = std::string(text.substr(equals + 1));
    }
    environment["TMPDIR"] = "/nonexistent-bond-directory";
    try {
        make_js({.env = environment});
        FAIL("no exception");
    } catch (const bond::TerminatedException& error) {
        std::string what = error.what();
        CHECK(what.find("exited with status 70") != std::string::npos);
        CHECK(what.find("cannot start the driver") != std::string::npos);
        CHECK(what.find("/nonexistent-bond-directory") != std::string::npos);
    }
}

TEST_CASE("call takes any callable expression, with `this` bound for methods") {
    bond::Bond js = make_js();
    js.eval_block(
        "function greet(name) { return `hello ${name}`; }\n"
        "const counter = { n: 0, bump(by) { this.n += by; return this.n; } };\n"
        "class Shapes { static square(x) { return x * x; } }\n"
        "var twice = (x) => 2 * x;\n");
    CHECK(js.call("greet", "you") == "hello you");
    CHECK(js.call("counter.bump", 2) == 2);
    CHECK(js.call("counter.bump", 3) == 5);
    CHECK(js.call("counter['bump']", 1) == 6);
    CHECK(js.call("Math.max", 3, 9, 4) == 9);
    CHECK(js.call("JSON.stringify", Value{{"a", 1}}) == "{\"a\":1}");
    CHECK(js.call("twice", 21) == 42);
    CHECK(js.call("Shapes.square", 7) == 49);
    CHECK(js.call("(a, b) => a - b", 10, 4) == 6);
    CHECK(js.call("String.prototype.toUpperCase.call", "abc") == "ABC");
    CHECK(js.call("[1, 2, 3].indexOf.bind([1, 2, 3])", 3) == 2);
    CHECK(js.function<int(int)>("twice")(4) == 8);
    try {
        js.call("counter.n", 1);
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.message().find("TypeError") != std::string::npos);
        CHECK(error.message().find("not a function") != std::string::npos);
    }
}

TEST_CASE("a Promise is awaited: timers, fs.promises, async functions, top-level await") {
    bond::Bond js = make_js();
    CHECK(js.eval("new Promise((resolve) => setTimeout(() => resolve('later'), 20))") == "later");
    CHECK(js.eval("Promise.resolve(42)") == 42);
    js.eval_block(
        "async function slowDouble(x) {\n"
        "    await new Promise((resolve) => setTimeout(resolve, 10));\n"
        "    return 2 * x;\n"
        "}\n");
    CHECK(js.call("slowDouble", 21) == 42);

    ScratchDirectory scratch;
    scratch.write("data.txt", "file contents");
    std::string path = (scratch.path / "data.txt").string();
    CHECK(js.call("require('fs').promises.readFile", path, "utf8") == "file contents");

    // await at the top level of a block, and what it declares stays.
    js.eval_block("const contents = await require('fs').promises.readFile(" + Value(path).dump() +
                  ", 'utf8');\nlet waited = await slowDouble(5);");
    CHECK(js.eval("contents.length") == 13);
    CHECK(js.eval("waited") == 10);
    CHECK(js.eval("await slowDouble(8)") == 16);

    // A thenable that is not a Promise is awaited too.
    CHECK(js.eval("({ then(resolve) { setTimeout(() => resolve('thenable'), 5); } })") ==
          "thenable");
}

TEST_CASE("a rejected Promise is a RemoteException with the rejection's message") {
    bond::Bond js = make_js();
    CHECK(eval_error(js, "Promise.reject(new Error('refused'))") == "Error: refused");
    CHECK(eval_error(js,
                     "new Promise((_, reject) => setTimeout(() => reject(new "
                     "RangeError('late')), 10))") == "RangeError: late");
    js.eval_block("async function failing() { await null; throw new TypeError('async boom'); }");
    try {
        js.call("failing");
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.message() == "TypeError: async boom");
        CHECK(error.data() == "TypeError: async boom");
    }
    CHECK(remote_error(js, "await Promise.reject('plain')") == "plain");
    CHECK(js.eval("1 + 1") == 2);
}

TEST_CASE("an unhandled rejection or uncaught exception fails the request that caused it") {
    bond::Bond js = make_js();
    CHECK(remote_error(js, "Promise.reject(new Error('nobody handles me'));") ==
          "Error: nobody handles me");
    CHECK(remote_error(js, "(async () => { throw new Error('async, unawaited'); })(); 1") ==
          "Error: async, unawaited");
    CHECK(eval_error(js,
                     "new Promise((resolve) => { setTimeout(() => { throw new "
                     "Error('in a timer'); }, 5); setTimeout(resolve, 50); })") ==
          "Error: in a timer");
    CHECK(js.eval("'still usable'") == "still usable");
}

TEST_CASE("an exception thrown while no request runs goes to stderr") {
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    // 'beforeExit' comes when the host has closed the bond: no request is there to fail.
    js.eval_block("process.once('beforeExit', () => { throw new Error('idle failure'); });");
    js.close();
    CHECK(output.stderr_text.find("Uncaught: Error: idle failure") != std::string::npos);
}

TEST_CASE("the domain module works: an error in a callback reaches its domain") {
    // The driver switches off the async hook of the REPL's domain (it slowed every Promise):
    // requiring the module switches it on again.
    bond::Bond js = make_js();
    CHECK(js.eval("(async () => { await null; await null; return 'awaited'; })()") == "awaited");
    CHECK(
        js.eval("new Promise((resolve) => {\n"
                "    const d = require('domain').create();\n"
                "    d.on('error', (error) => resolve(error.message));\n"
                "    d.run(() => setTimeout(() => { throw new Error('caught by the domain'); }));\n"
                "})") == "caught by the domain");
}

TEST_CASE("exported C++ functions answer synchronously, also inside async functions") {
    bond::Bond js = make_js();
    js.export_function("cb", [](int x) { return x * 10; });
    CHECK(js.eval("cb(1) + 1") == 11);
    js.eval_block(
        "async function later(x) {\n"
        "    await new Promise((resolve) => setTimeout(resolve, 5));\n"
        "    return cb(x) + 1;\n"
        "}\n");
    CHECK(js.call("later", 4) == 41);
    CHECK(js.eval("Promise.all([later(1), later(2)])") == Value::array({11, 21}));
    CHECK(js.eval("typeof cb") == "function");
    CHECK(js.eval("cb.name") == "cb");
}

TEST_CASE("a nested call whose value is a Promise is refused clearly") {
    bond::Bond js = make_js();
    js.eval_block("async function asyncValue() { return 1; }");
    js.export_function("reenter", [&] { return js.call("asyncValue"); });
    std::string message = eval_error(js, "reenter()");
    CHECK(message.find("Promise") != std::string::npos);
    CHECK(message.find("cannot settle") != std::string::npos);
    CHECK(js.eval("1 + 1") == 2);
}

TEST_CASE("exported functions throw Errors that JavaScript catches") {
    bond::Bond js = make_js();
    js.export_function("refuse", []() -> int { throw std::runtime_error("refused by C++"); });
    js.eval_block(
        "function probe() {\n"
        "    try { refuse(); } catch (e) { return [e instanceof Error, e.message, e.name]; }\n"
        "}\n");
    CHECK(js.call("probe") == Value::array({true, "refused by C++", "BondError"}));
}

TEST_CASE("function, var, let, const and class declarations persist") {
    bond::Bond js = make_js();
    js.eval_block(
        "function f(x) { return x + 1; }\n"
        "var v = 'var';\n"
        "let l = 'let';\n"
        "const c = 'const';\n"
        "class K { static hello() { return 'class'; } }\n");
    CHECK(js.eval("[f(1), v, l, c, K.hello()]") ==
          Value::array({2, "var", "let", "const", "class"}));
    CHECK(js.call("f", 41) == 42);
    CHECK(js.call("K.hello") == "class");
    js.eval_block("l = l + '!'; const together = `${v} ${l} ${c}`;");
    CHECK(js.eval("together") == "var let! const");
    // Declaring a let or const again is an error, as in a script and in Node's own REPL.
    CHECK(remote_error(js, "let l = 'again';") ==
          "SyntaxError: Identifier 'l' has already been declared");
    CHECK(js.eval("l") == "let!");
    // Blocks with top-level await declare as others do.
    js.eval_block("const awaited = await Promise.resolve('awaited');");
    CHECK(js.call("() => awaited") == "awaited");
    // Functions defined later see declarations made earlier, and the reverse.
    js.eval_block("function readsLater() { return laterConst; }");
    js.eval_block("const laterConst = 'seen';");
    CHECK(js.call("readsLater") == "seen");
}

TEST_CASE("require finds Node's modules and packages next to the working directory") {
    ScratchDirectory scratch;
    scratch.write("node_modules/greeter/package.json",
                  "{\"name\": \"greeter\", \"main\": \"main.js\"}");
    scratch.write("node_modules/greeter/main.js", "exports.greet = (who) => 'hi ' + who;\n");
    scratch.write("local.js", "module.exports = { answer: 42 };\n");
    bond::Bond js = make_js({.cwd = scratch.path.string()});
    CHECK(js.eval("require('path').join('a', 'b')") == "a/b");
    CHECK(js.eval("require('node:os').EOL") == "\n");
    CHECK(js.call("require('greeter').greet", "there") == "hi there");
    CHECK(js.eval("require('./local.js').answer") == 42);
    CHECK(eval_error(js, "require('no-such-package')").find("Cannot find module") !=
          std::string::npos);
}

TEST_CASE("every output path reaches on_output in order, the protocol intact") {
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    js.eval_block(
        "console.log('one');\n"
        "process.stdout.write('two\\n');\n"
        "require('child_process').execSync('echo three', {stdio: 'inherit'});\n"
        "console.info('four');\n"
        "require('child_process').execSync('echo five >&2', {stdio: 'inherit'});\n"
        "console.error('six');\n"
        "process.stderr.write(Buffer.from('seven\\n'));\n"
        "console.log({eight: 8});\n");
    CHECK(output.all == "one\ntwo\nthree\nfour\nfive\nsix\nseven\n{ eight: 8 }\n");
    CHECK(output.stdout_text == "one\ntwo\nthree\nfour\n{ eight: 8 }\n");
    CHECK(output.stderr_text == "five\nsix\nseven\n");
    CHECK(js.eval("2 + 2") == 4);
}

TEST_CASE("output of child processes in one call after another arrives as written") {
    // The output files are emptied after each read: a later write must land at their start.
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    js.eval_block("require('child_process').execSync('echo one', {stdio: 'inherit'});");
    js.eval_block("require('child_process').execSync('echo two', {stdio: 'inherit'});");
    js.eval_block("require('child_process').execSync('echo three >&2', {stdio: 'inherit'});");
    js.eval_block("require('child_process').execSync('echo four >&2', {stdio: 'inherit'});");
    CHECK(output.stdout_text == "one\ntwo\n");
    CHECK(output.stderr_text == "three\nfour\n");
}

TEST_CASE("output written to descriptors 1 and 2 in other ways arrives before the reply") {
    // Until something writes to the descriptors the driver does not read them: each way to
    // write there must be noticed.
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    js.eval_block("require('fs').writeSync(1, 'by fs\\n');");
    CHECK(output.stdout_text == "by fs\n");
    js.eval_block("process._rawDebug('raw');");
    CHECK(output.stderr_text == "raw\n");
    bond::Bond other = make_js({.on_output = output.sink()});
    other.eval_block("require('fs').writeFileSync('/dev/stderr', 'by path\\n');");
    CHECK(output.stderr_text == "raw\nby path\n");
}

TEST_CASE("output of a child process that writes much does not block or corrupt the protocol") {
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    js.eval_block(
        "require('child_process').execSync(\"head -c 3000000 /dev/zero | tr '\\\\0' x\", "
        "{stdio: 'inherit'});\n"
        "console.log('!');");
    CHECK(output.stdout_text.size() == 3000002);
    CHECK(output.stdout_text.substr(output.stdout_text.size() - 3) == "x!\n");
    CHECK(js.eval("'fine'") == "fine");
}

TEST_CASE("output produced by a timer after a call returned arrives with the next message") {
    Output output;
    bond::Bond js = make_js({.on_output = output.sink()});
    js.eval_block(
        "setTimeout(() => {\n"
        "    console.log('from a timer');\n"
        "    require('child_process').execSync('echo from a child', {stdio: 'inherit'});\n"
        "    globalThis.timerDone = true;\n"
        "}, 10);");
    CHECK(output.all.empty());
    // Waiting for the timer inside JavaScript; its output must precede this reply.
    js.eval(
        "new Promise((resolve) => { (function wait() { globalThis.timerDone ? resolve() : "
        "setTimeout(wait, 5); })(); })");
    CHECK(output.stdout_text == "from a timer\nfrom a child\n");
}

TEST_CASE("thrown values of every kind are RemoteExceptions, the bond stays usable") {
    bond::Bond js = make_js();
    CHECK(remote_error(js, "throw new Error('plain error')") == "Error: plain error");
    CHECK(remote_error(js, "throw 'text'") == "text");
    CHECK(remote_error(js, "throw {code: 1}") == "{ code: 1 }");
    CHECK(remote_error(js, "throw 42") == "42");
    CHECK(remote_error(js, "throw null") == "null");
    CHECK(remote_error(js, "class MyError extends Error {}\nthrow new MyError('mine')") ==
          "Error: mine");
    CHECK(remote_error(js,
                       "class Named extends Error { get name() { return 'Named'; } }\n"
                       "throw new Named('with a name')") == "Named: with a name");
    CHECK(eval_error(js, "1 +* 2").find("SyntaxError") == 0);
    CHECK(remote_error(js, "function {").find("SyntaxError") == 0);
    CHECK(eval_error(js, "undefinedName").find("ReferenceError: undefinedName is not defined") ==
          0);
    CHECK(js.eval("'usable'") == "usable");
}

TEST_CASE("with trans_except, the thrown value arrives serialized, through its toJSON") {
    bond::Bond js = make_js({.trans_except = true});
    try {
        js.eval_block(
            "class Refusal extends Error {\n"
            "    toJSON() { return {kind: 'refusal', reason: this.message}; }\n"
            "}\n"
            "throw new Refusal('no way');");
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.message() == "Error: no way");
        CHECK(error.data() == Value{{"kind", "refusal"}, {"reason", "no way"}});
    }
    try {
        js.eval_block("throw {code: 1, detail: [1, 2]}");
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.data() == Value{{"code", 1}, {"detail", {1, 2}}});
    }
    try {
        js.eval_block("const e = new TypeError('typed'); e.code = 'E_TYPED'; throw e;");
        FAIL("no exception");
    } catch (const bond::RemoteException& error) {
        CHECK(error.data()["type"] == "TypeError");
        CHECK(error.data()["message"] == "typed");
        CHECK(error.data()["code"] == "E_TYPED");
        CHECK(error.data()["stack"].get<std::string>().find("TypeError: typed") == 0);
    }
}

TEST_CASE("values: undefined is null, bytes are Buffers, 64-bit integers are BigInts") {
    bond::Bond js = make_js();
    CHECK(js.eval("undefined").is_null());
    CHECK(js.eval("[1, undefined]") == Value::array({1, nullptr}));
    CHECK(js.eval("({a: 1, b: undefined})") == Value{{"a", 1}});
    Value bytes = Value::binary({0, 255, 65});
    CHECK(js.eval("Buffer.from([0, 255, 65])") == bytes);
    CHECK(js.eval("new Uint8Array([0, 255, 65])") == bytes);
    CHECK(js.eval("new Uint8Array([0, 255, 65]).buffer") == bytes);
    CHECK(js.eval("new Uint8Array([9, 0, 255, 65, 9]).subarray(1, 4)") == bytes);
    CHECK(js.eval("new Float64Array([0.5, 2])") == Value::array({0.5, 2}));
    CHECK(js.call("(b) => Buffer.isBuffer(b) && b.length", bytes) == 3);
    CHECK(js.eval("new Date(0)") == "1970-01-01T00:00:00.000Z");

    std::int64_t big = std::numeric_limits<std::int64_t>::max();
    CHECK(js.call("(x) => typeof x", big) == "bigint");
    CHECK(js.call("(x) => typeof x", std::int64_t{1} << 52) == "number");
    CHECK(js.call("(x) => x + 1n", big - 1).get<std::int64_t>() == big);
    CHECK(js.eval("2n ** 64n - 1n").get<std::uint64_t>() ==
          std::numeric_limits<std::uint64_t>::max());
    CHECK(js.eval("-(2n ** 63n)").get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
    CHECK(js.eval("5n") == 5);
    // Strings that look like big numbers stay strings.
    CHECK(js.call("(s) => typeof s", "12345678901234567890") == "string");
}

TEST_CASE("values JSON cannot carry are remote SerializationExceptions, never a hang") {
    bond::Bond js = make_js();
    for (const char* code : {"NaN", "Infinity", "() => 1", "Symbol('s')", "2n ** 64n",
                             "(() => { const a = [1]; a.push(a); return a; })()", "new Set([1])",
                             "({nested: {f() {}}})", "Promise.resolve(() => 1)"}) {
        CAPTURE(code);
        try {
            js.eval(code);
            FAIL("no exception");
        } catch (const bond::SerializationException& error) {
            CHECK(error.side() == "remote");
        }
    }
    // A Map is an object of its own (docs/objects.md): the message names it and what keeps it.
    try {
        js.eval("new Map([[1, 2]])");
        FAIL("no exception");
    } catch (const bond::SerializationException& error) {
        std::string message = error.what();
        CHECK(message.find("(Map)") != std::string::npos);
        CHECK(message.find("Bond::object()") != std::string::npos);
    }
    CHECK(js.object("new Map([[1, 2]])").call("get", 1) == 2);
    CHECK(js.eval("'alive'") == "alive");
}

TEST_CASE("arguments an exported function cannot receive are a TypeError in JavaScript") {
    bond::Bond js = make_js();
    js.export_function("take", [](const Value& args) { return args.size(); });
    CHECK(js.eval("take(1, 'two', [3])") == 3);
    std::string message = eval_error(js, "take(NaN)");
    CHECK(message.find("TypeError: cannot serialize the arguments of take()") == 0);
    CHECK(js.eval("take()") == 0);
}

TEST_CASE("the co-process is a node whose stdin reads as empty and which exits when closed") {
    bond::Bond js = make_js();
    CHECK(js.eval("require('fs').readFileSync(0, 'utf8')") == "");
    int pid = js.eval("process.pid").get<int>();
    CHECK(::kill(pid, 0) == 0);
    js.close();
    CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("a Promise held as an Object is awaited by value(): its value, or its rejection") {
    bond::Bond js = make_js();
    bond::Object later = js.object("new Promise((resolve) => setTimeout(() => resolve(42), 10))");
    CHECK(later.type() == "Promise");
    CHECK(later.value() == 42);
    bond::Object refused = js.object(
        "new Promise((_, reject) => setTimeout(() => "
        "reject(new Error('no')), 10))");
    CHECK_THROWS_AS(refused.value(), bond::RemoteException);
    CHECK(js.eval("'alive'") == "alive");
}
