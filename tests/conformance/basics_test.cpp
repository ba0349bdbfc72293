// eval, eval_block, call, callable, function<Sig>, ref: the everyday operations.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <regex>

using bond::Value;
using namespace conformance;

TEST_CASE("eval returns an expression's value, eval_block definitions persist") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        CHECK(remote.lang() == language.name);
        CHECK(remote.alive());
        // The version the driver reported at start-up (ready), as the interpreter numbers itself.
        CHECK_MESSAGE(std::regex_match(remote.version(), std::regex(R"(\d+\.\d+(\.\d+)?\S*)")),
                      remote.version());
        CHECK(remote.eval("1 + 2") == 3);
        remote.eval_block(language.define_add);
        CHECK(remote.call("add", 1, 2) == 3);
        CHECK(remote.call("add", 0.5, 0.25) == 0.75);
        remote.eval_block(language.set_global);
        CHECK(remote.eval(language.get_global) == 5);
        CHECK(remote.call("add", remote.eval(language.get_global), 1) == 6);
    });
}

TEST_CASE("callable and function<Sig> make remote functions C++ callables") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_add);
        remote.eval_block(language.define_ident);
        bond::Function add = remote.callable("add");
        CHECK(add.name() == "add");
        CHECK(add(1, 2) == 3);
        CHECK(add(40, 2) == 42);
        std::function<int(int, int)> typed = remote.function<int(int, int)>("add");
        CHECK(typed(20, 22) == 42);
        auto echo = remote.function<std::vector<std::string>(std::vector<std::string>)>("ident");
        CHECK(echo({"a", "b"}) == std::vector<std::string>{"a", "b"});
        auto nothing = remote.function<void(int)>("ident");
        nothing(1);

        // A result that does not convert is a local SerializationException; the bond goes on.
        auto wrong = remote.function<int(std::string)>("ident");
        try {
            wrong("not a number");
            FAIL("a string converted to int");
        } catch (const bond::SerializationException& error) {
            CHECK(error.side() == "local");
            CHECK(error.lang() == language.name);
        }
        CHECK(typed(1, 1) == 2);
    });
}

TEST_CASE("a Ref is code evaluated remotely, in eval, eval_block and as a call argument") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_add);
        CHECK(remote.eval(remote.ref("40 + 2")) == 42);
        remote.eval_block(remote.ref(language.set_global));
        CHECK(remote.eval(language.get_global) == 5);
        CHECK(remote.call("add", remote.ref("40"), 2) == 42);
        CHECK(remote.call("add", 1, remote.ref(language.get_global)) == 6);
        bond::Function add = remote.callable("add");
        CHECK(add(remote.ref("1 + 1"), remote.ref("2 + 2")) == 6);

        // A Ref belongs to its bond.
        bond::Bond other = make_test_bond(language);
        bond::Ref foreign = other.ref("1");
        CHECK_THROWS_AS(remote.eval(foreign), bond::BondException);
        CHECK_THROWS_AS(remote.eval_block(foreign), bond::BondException);
        CHECK_THROWS_AS(remote.call("add", foreign, 1), bond::BondException);
        CHECK(remote.call("add", 1, 1) == 2);
    });
}

TEST_CASE("bonds of every language are named case-insensitively and by alias") {
    for_each_language([](const Language& language) {
        for (const auto& name : language.aliases) {
            CAPTURE(name);
            bond::Bond remote = bond::make_bond(name);
            CHECK(remote.lang() == language.name);
            CHECK(remote.eval("2 * 21") == 42);
        }
    });
}

TEST_CASE("the table of tests/languages.json has every language of the driver registry") {
    // In the registry's order: a language registered without its entry, or an entry for a
    // language bond does not know, fails here rather than going untested.
    // A language with a suite of its own ("shared_suites": false) is left out on purpose.
    std::vector<std::string> tested;
    for (const auto& language : languages()) tested.push_back(language.name);
    std::vector<std::string> expected;
    auto outside = languages_outside_shared_suites();
    for (const auto& name : bond::list_drivers())
        if (std::find(outside.begin(), outside.end(), name) == outside.end())
            expected.push_back(name);
    CHECK(tested == expected);
}
