// export and proxy: the remote code calls C++ (and other interpreters) as native functions, to
// any depth.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <memory>

using bond::Value;
using namespace conformance;

TEST_CASE("an exported C++ function is a native function of the remote code") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.export_function("twice", [](int x) { return 2 * x; });
        CHECK(remote.eval("twice(21)") == 42);
        remote.export_function("concat",
                               [](const std::string& a, const std::string& b) { return a + b; });
        CHECK(remote.eval("concat(\"é\", \"😀\")") == "é😀");
        // Not "count": a name that no language has as a built-in (PHP cannot redefine one).
        remote.export_function("arg_count", [](const Value& args) { return args.size(); });
        CHECK(remote.eval("arg_count(1, \"two\", 3)") == 3);
        CHECK(remote.eval(language.call_export("arg_count")) == 0);
        int calls = 0;
        remote.export_function("tick", [&calls] { ++calls; });
        CHECK(remote.eval(language.call_export("tick")) == nullptr);
        CHECK(calls == 1);
        CHECK(remote.exports() == std::vector<std::string>{"arg_count", "concat", "tick", "twice"});
    });
}

TEST_CASE("exporting a name again replaces it, an invalid name is a BondException") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.export_function("version", [] { return 1; });
        CHECK(remote.eval(language.call_export("version")) == 1);
        remote.export_function("version", [] { return 2; });
        CHECK(remote.eval(language.call_export("version")) == 2);
        for (const char* invalid : {"", "1abc", "not a name", "a-b", "x;y"}) {
            CAPTURE(invalid);
            try {
                remote.export_function(invalid, [] { return 0; });
                FAIL("accepted");
            } catch (const bond::RemoteException&) {
                FAIL("an invalid name is not an error of the remote code");
            } catch (const bond::BondException& error) {
                CHECK(error.lang() == language.name);
            }
        }
        CHECK(remote.exports() == std::vector<std::string>{"version"});
        CHECK(remote.eval(language.call_export("version")) == 2);
    });
}

TEST_CASE("exporting a name the language has as a global is refused, and the global still works") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        for (const auto& name : language.language_globals) {
            CAPTURE(name);
            try {
                remote.export_function(name, [] { return 0; });
                FAIL("accepted");
            } catch (const bond::RemoteException&) {
                FAIL("a refused name is not an error of the remote code");
            } catch (const bond::BondException& error) {
                CHECK(error.message().find(name) != std::string::npos);
            }
        }
        CHECK(remote.exports().empty());
        remote.eval_block(language.print_line("still printing"));
        CHECK(output.text(bond::Channel::Stdout) == "still printing\n");
    });
}

TEST_CASE("an export whose result JSON cannot carry is an error of the remote code") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_catching);
        remote.export_function("thrower", [] { return std::string("\xff not UTF-8"); });
        CHECK(remote.call("catching").get<std::string>().find("serialize") != std::string::npos);
        CHECK(remote.eval("1 + 1") == 2);
    });
}

TEST_CASE("recursion 200 levels deep, both ways") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_down);
        std::size_t deepest = 0;
        remote.export_function("up", [&](int n) {
            deepest = std::max(deepest, remote.depth());
            return remote.call("down", n).get<int>() + 1;
        });
        CHECK(remote.call("down", 200) == 400);
        CHECK(deepest == 200);
        CHECK(remote.depth() == 0);
    });
}

TEST_CASE("proxy makes one interpreter's function callable in another, with no C++ written") {
    for_each_language([](const Language& language) {
        for_each_language([&](const Language& other_language) {
            bond::Bond source = make_test_bond(language);
            bond::Bond target = make_test_bond(other_language);
            source.eval_block(language.define_add);
            source.proxy("add", target);
            CHECK(target.eval("add(2, 3)") == 5);
            source.proxy("add", target, "plus");
            CHECK(target.eval("plus(40, 2)") == 42);
            CHECK(target.exports() == std::vector<std::string>{"add", "plus"});

            // Errors cross both bonds; a closed source is an error of the target's code.
            source.eval_block(language.define_fails);
            source.proxy("fails", target);
            CHECK_THROWS_AS(target.eval(other_language.call_export("fails")),
                            bond::RemoteException);
            source.close();
            CHECK_THROWS_AS(target.eval("plus(1, 1)"), bond::RemoteException);
            CHECK(target.alive());
        });
    });
}

TEST_CASE("proxies nest: two interpreters call each other through the host") {
    for_each_language([](const Language& language) {
        bond::Bond first = make_test_bond(language);
        bond::Bond second = make_test_bond(language);
        first.eval_block(language.define_down);   // down calls up
        second.eval_block(language.define_down);  // and so does this one
        first.proxy("down", second, "up");        // second's up is first's down
        second.proxy("down", first, "up");        // and first's up is second's down
        CHECK(first.call("down", 50) == 50);      // each level adds one, in alternate interpreters
    });
}

TEST_CASE("a runaway recursion across the bond is stopped at max_depth, not by a crash") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.max_depth = 60});
        remote.eval_block(language.define_down);
        remote.export_function("up", [&](int n) { return remote.call("down", n + 1).get<int>(); });
        // down(n) calls up(n - 1) + 1 and up calls down(n + 1): it never reaches 0.
        try {
            remote.call("down", 5);
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CHECK(error.message().find("max_depth") != std::string::npos);
        }
        CHECK(remote.depth() == 0);
        CHECK(remote.alive());
        remote.export_function("up", [&](int n) { return remote.call("down", n).get<int>() + 1; });
        CHECK(remote.call("down", 29) == 58);  // 59 levels: just within the limit
    });
}

namespace {
int plain_twice(int x) {
    return 2 * x;
}
}  // namespace

TEST_CASE("any callable exports: a function, a std::function, a move-only lambda") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.export_function("plain_twice", plain_twice);
        CHECK(remote.eval("plain_twice(21)") == 42);
        std::function<std::string(const std::string&)> shout = [](const std::string& s) {
            return s + "!";
        };
        remote.export_function("shout", shout);
        CHECK(remote.eval("shout(\"hey\")") == "hey!");
        auto owned = std::make_unique<int>(7);
        remote.export_function("owned", [owned = std::move(owned)] { return *owned; });
        CHECK(remote.eval(language.call_export("owned")) == 7);
    });
}

TEST_CASE("an export holding a callable of its own bond does not keep the bond alive") {
    for_each_language([](const Language& language) {
        std::weak_ptr<int> witness;
        {
            bond::Bond remote = make_test_bond(language);
            remote.eval_block(language.define_add);
            auto token = std::make_shared<int>(1);
            witness = token;
            bond::Function add = remote.callable("add");  // holds the session
            remote.export_function("inc", [add, token](int x) { return add(x, *token); });
            CHECK(remote.eval("inc(41)") == 42);
        }
        CHECK(witness.expired());  // the export, and with it the Function, was released
    });
}

TEST_CASE("a Function destroyed during its own call, with its bond, ends the call cleanly") {
    for_each_language([](const Language& language) {
        auto remote = std::make_unique<bond::Bond>(make_test_bond(language));
        remote->eval_block(language.define_catching);
        auto catching = std::make_unique<bond::Function>(remote->callable("catching"));
        remote->export_function("thrower", [&] {
            remote.reset();
            catching.reset();
        });
        bond::Function& running = *catching;
        CHECK_THROWS_AS(running(), bond::TerminatedException);
        CHECK(catching == nullptr);
    });
}
