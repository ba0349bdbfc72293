// The parts of the public API that need no interpreter: names, errors, export adaptation.
#include <bond/bond.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>

using bond::Value;

namespace {
struct Unconvertible {};
[[maybe_unused]] void to_json(Value&, const Unconvertible&) {
    throw std::runtime_error("this type refuses");
}
}  // namespace

TEST_CASE("list_drivers names Python, and unknown languages are refused with the known list") {
    auto drivers = bond::list_drivers();
    CHECK(std::find(drivers.begin(), drivers.end(), "Python") != drivers.end());
    try {
        bond::make_bond("Cobol");
        FAIL("make_bond accepted an unknown language");
    } catch (const bond::BondException& error) {
        CHECK(std::string(error.what()).find("unknown language 'Cobol'") != std::string::npos);
        CHECK(std::string(error.what()).find("Python") != std::string::npos);
    }
}

TEST_CASE("exceptions name their kind and language in what()") {
    bond::RemoteException remote("PHP", "Error: boom", "Error: boom");
    CHECK(std::string(remote.what()) == "RemoteException[PHP]: Error: boom");
    CHECK(remote.message() == "Error: boom");
    CHECK(remote.lang() == "PHP");
    CHECK(remote.data() == "Error: boom");
    bond::SerializationException serialization("Perl", "local", "bad");
    CHECK(serialization.side() == "local");
    CHECK(std::string(serialization.what()) == "SerializationException[Perl]: (local) bad");
    CHECK(std::string(bond::TerminatedException("Python", "gone").what()) ==
          "TerminatedException[Python]: gone");
    CHECK(std::string(bond::TimeoutException("Python", "slow").what()) ==
          "TimeoutException[Python]: slow");
    CHECK(std::string(bond::BondException("", "plain").what()) == "BondException: plain");
    // The hierarchy a caller catches by.
    CHECK_THROWS_AS(throw bond::TimeoutException("x", "y"), bond::BondException);
    CHECK_THROWS_AS(throw bond::RemoteException("x", "y", nullptr), std::runtime_error);
}

// Runs an adapted export on `args` as the host would: no objects among them.
template <class F>
Value run(F&& function, Value args) {
    bond::detail::Carried carried{std::move(args), {}};
    return function(carried).value;
}

TEST_CASE("a typed export converts its arguments and checks their number") {
    auto twice = bond::detail::adapt_export([](int x) { return 2 * x; });
    CHECK(run(twice, Value{21}) == 42);
    CHECK_THROWS_WITH_AS(run(twice, Value{1, 2}), "expected 1 argument, got 2",
                         std::invalid_argument);
    CHECK_THROWS_AS(run(twice, Value{"text"}), std::invalid_argument);

    auto join = bond::detail::adapt_export([](const std::string& a, std::vector<int> b, double c) {
        return a + std::to_string(b.size() + c);
    });
    CHECK(run(join, Value{"n", {1, 2}, 0.5}) == "n2.500000");

    int calls = 0;
    auto nothing = bond::detail::adapt_export([&calls]() { ++calls; });
    CHECK(run(nothing, Value::array()) == nullptr);
    CHECK(calls == 1);
}

TEST_CASE("a raw export receives the argument array as it is") {
    auto count = bond::detail::adapt_export([](const Value& args) { return args.size(); });
    CHECK(run(count, Value{1, "two", nullptr}) == 3);
    bond::ExportedFunction plain = [](const Value& args) { return args[0]; };
    auto wrapped = bond::detail::adapt_export(plain);
    CHECK(run(wrapped, Value{5}) == 5);
    // Only const Value& means "the whole array": a Value taken by value is one typed argument.
    auto single = bond::detail::adapt_export([](Value v) { return v; });
    CHECK(run(single, Value{{1, 2}}) == Value{1, 2});
    CHECK_THROWS_AS(run(single, Value{1, 2}), std::invalid_argument);
}

namespace {
int add_numbers(int a, int b) {
    return a + b;
}
}  // namespace

TEST_CASE("functions, function pointers, std::function and move-only callables export") {
    CHECK(run(bond::detail::adapt_export(add_numbers), Value{1, 2}) == 3);
    CHECK(run(bond::detail::adapt_export(&add_numbers), Value{3, 4}) == 7);
    std::function<int(int)> negate = [](int x) { return -x; };
    CHECK(run(bond::detail::adapt_export(negate), Value{5}) == -5);
    auto owned = std::make_unique<int>(10);
    auto move_only =
        bond::detail::adapt_export([owned = std::move(owned)](int x) { return *owned + x; });
    CHECK(run(move_only, Value{1}) == 11);
    int counter = 0;
    auto mutable_lambda = bond::detail::adapt_export([counter]() mutable { return ++counter; });
    CHECK(run(mutable_lambda, Value::array()) == 1);
    CHECK(run(mutable_lambda, Value::array()) == 2);
}

TEST_CASE("arguments are converted with to_json, and a failing conversion is recorded") {
    auto converted = bond::detail::make_arguments(1, "two", std::vector<int>{3});
    CHECK(converted.values == Value{1, "two", {3}});
    CHECK_FALSE(converted.conversion_error.has_value());
    auto failed = bond::detail::make_arguments(1, Unconvertible{});
    REQUIRE(failed.conversion_error.has_value());
    CHECK(*failed.conversion_error == "this type refuses");
}
