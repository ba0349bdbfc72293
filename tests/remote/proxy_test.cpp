// Proxies across languages, locally and over ssh: a function of one bond called by another
// bond's code, for every pair of languages; chains of three bonds; proxied functions that call
// back into the host's exports. Arguments, results and exceptions cross every hop.
#include "machine.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <iostream>
#include <stdexcept>

using bond::Value;
using conformance::Language;
using namespace remote;

namespace {

using BondMaker = std::function<bond::Bond(const Language&, int which)>;

BondMaker local_bonds() {
    return [](const Language& language, int) { return conformance::make_test_bond(language); };
}

// Each bond of a scenario on a host of its own: bond-a, bond-b, bond-a, ...
BondMaker ssh_bonds() {
    return [](const Language& language, int which) {
        return make_bond_through(ssh_to(which % 2 ? "bond-b" : "bond-a"), language);
    };
}

std::vector<const Language*> selected_languages() {
    std::vector<const Language*> selected;
    conformance::for_each_language(
        [&](const Language& language) { selected.push_back(&language); });
    return selected;
}

// The selected languages, when there are at least `needed`; else none, and the test says it is
// skipped (BOND_CONFORMANCE_LANGUAGES chose fewer).
std::vector<const Language*> at_least(std::size_t needed) {
    auto languages = selected_languages();
    if (languages.size() >= needed) return languages;
    std::cout << "BOND-SKIP: fewer than " << needed << " languages are selected" << std::endl;
    return {};
}

const Value kStructure = {{"list", {1, "two", 3.5, nullptr, true}},
                          {"text", "héllo \"wörld\" $x \\"},
                          {"nested", {{"deep", {{"n", -7}}}}}};

// A's functions called from B's code, for every ordered pair of languages.
void check_pairs(const BondMaker& make) {
    auto languages = at_least(2);
    for (const Language* a : languages) {
        for (const Language* b : languages) {
            if (a == b) continue;
            INFO("from ", a->name, " into ", b->name);
            bond::Bond source = make(*a, 0), target = make(*b, 1);
            source.eval_block(a->define_add);
            source.eval_block(a->define_ident);
            source.eval_block(a->define_fails);
            target.eval_block(b->define_relay);
            target.eval_block(b->define_catching);
            source.proxy("add", target);
            source.proxy("ident", target, "ident_there");
            source.proxy("fails", target, "thrower");
            CHECK(target.call("relay", "add", 40, 2) == 42);
            CHECK(target.call("relay", "ident_there", kStructure) == kStructure);
            // B's code catches A's error as its own kind of error, with A's message in it.
            CHECK(target.call("catching").get<std::string>().find("boom") != std::string::npos);
            // Uncaught, it reaches the host through both bonds.
            CHECK_THROWS_WITH_AS(target.call("relay", "thrower"), doctest::Contains("boom"),
                                 bond::RemoteException);
            CHECK(source.alive());
            CHECK(target.alive());
        }
    }
}

// A's function proxied into B, B's relay proxied into C: C's code reaches A through B.
void check_chains(const BondMaker& make) {
    auto languages = at_least(3);
    for (const Language* a : languages) {
        for (const Language* b : languages) {
            for (const Language* c : languages) {
                if (a == b || b == c || a == c) continue;
                INFO("chain ", a->name, " -> ", b->name, " -> ", c->name);
                bond::Bond first = make(*a, 0), second = make(*b, 1), third = make(*c, 2);
                first.eval_block(a->define_add);
                first.eval_block(a->define_ident);
                first.eval_block(a->define_fails);
                second.eval_block(b->define_relay);
                third.eval_block(c->define_relay);
                first.proxy("add", second, "add_first");
                first.proxy("ident", second, "ident_first");
                first.proxy("fails", second, "fails_first");
                second.proxy("relay", third, "relay_second");
                CHECK(third.call("relay", "relay_second", "add_first", 40, 2) == 42);
                CHECK(third.call("relay", "relay_second", "ident_first", kStructure) == kStructure);
                CHECK_THROWS_WITH_AS(third.call("relay", "relay_second", "fails_first"),
                                     doctest::Contains("boom"), bond::RemoteException);
            }
        }
    }
}

// A's down(n) calls the host's up(); down is proxied into B. From B's code: B -> host -> A ->
// host (up) -> A -> host -> B, n times over; an exception of up() unwinds through all of it.
void check_callbacks(const BondMaker& make) {
    auto languages = at_least(2);
    for (const Language* a : languages) {
        for (const Language* b : languages) {
            if (a == b) continue;
            INFO("from ", a->name, " into ", b->name);
            bond::Bond source = make(*a, 0), target = make(*b, 1);
            source.eval_block(a->define_down);
            target.eval_block(b->define_relay);
            source.export_function("up", [&](int n) {
                if (n == 99) throw std::runtime_error("up() refuses 99");
                return source.call("down", n).get<int>();
            });
            source.proxy("down", target);
            CHECK(target.call("relay", "down", 5) == 5);
            CHECK_THROWS_WITH_AS(target.call("relay", "down", 100),
                                 doctest::Contains("up() refuses 99"), bond::RemoteException);
            CHECK(target.call("relay", "down", 3) == 3);
        }
    }
}

bool has_languages(const std::vector<std::string>& names) {
    auto languages = selected_languages();
    for (const auto& name : names) {
        bool found = false;
        for (const Language* language : languages) found = found || language->name == name;
        if (!found) return false;
    }
    return true;
}

// PHP's explode as a Perl sub, and Perl's split and join as PHP functions.
void check_php_and_perl(const BondMaker& make) {
    if (!has_languages({"PHP", "Perl"})) {
        std::cout << "BOND-SKIP: PHP and Perl are not both selected" << std::endl;
        return;
    }
    const Language* php = nullptr;
    const Language* perl = nullptr;
    for (const Language* language : selected_languages()) {
        if (language->name == "PHP") php = language;
        if (language->name == "Perl") perl = language;
    }
    bond::Bond php_bond = make(*php, 0), perl_bond = make(*perl, 1);
    php_bond.proxy("explode", perl_bond);
    CHECK(perl_bond.eval("join('|', @{ explode(',', 'a,b,c') })") == "a|b|c");
    CHECK(perl_bond.eval("scalar @{ explode(' ', 'one two') }") == 2);
    CHECK_THROWS_WITH_AS(perl_bond.eval("explode('', 'abc')"), doctest::Contains("cannot be empty"),
                         bond::RemoteException);
    CHECK(perl_bond.eval("eval { explode('', 'abc'); 1 } ? 'no error' : \"caught: $@\"")
              .get<std::string>()
              .find("caught: ") == 0);

    perl_bond.proxy("split", php_bond, "perl_split");
    perl_bond.proxy("join", php_bond, "perl_join");
    CHECK(php_bond.eval("perl_split(',', 'x,y,z')") == Value({"x", "y", "z"}));
    CHECK(php_bond.eval("perl_join('-', 'x', 'y', 'z')") == "x-y-z");
    CHECK(php_bond.eval("implode('+', perl_split(':', 'p:q'))") == "p+q");
}

}  // namespace

TEST_CASE("proxies: every pair of languages, locally") {
    check_pairs(local_bonds());
}

TEST_CASE("proxies: chains of three bonds, locally") {
    check_chains(local_bonds());
}

TEST_CASE("proxies: a proxied function that calls back into C++ exports, locally") {
    check_callbacks(local_bonds());
}

TEST_CASE("proxies: PHP's explode called as a Perl sub, Perl's split and join from PHP") {
    check_php_and_perl(local_bonds());
}

TEST_CASE("ssh: proxies between bonds on two hosts, every pair of languages") {
    if (!ssh_ready()) return;
    check_pairs(ssh_bonds());
}

TEST_CASE("ssh: chains of three bonds over ssh") {
    if (!ssh_ready()) return;
    check_chains(ssh_bonds());
}

TEST_CASE("ssh: a proxied function calls back into C++ exports across hosts") {
    if (!ssh_ready()) return;
    check_callbacks(ssh_bonds());
}

TEST_CASE("ssh: PHP's explode on one host called as a Perl sub on another, and the reverse") {
    if (!ssh_ready()) return;
    check_php_and_perl(ssh_bonds());
}
