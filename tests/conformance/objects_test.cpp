// Remote objects (docs/objects.md): values that stay in their interpreter behind a bond::Object,
// used from C++, handed back to their own bond as the original, and lent to other bonds as
// proxies in the other language, to any depth; and let go when nothing holds them.
#include "languages.hpp"

#include <doctest/doctest.h>

using bond::Value;
using namespace conformance;

namespace {

// Languages answer "true" as true or 1 (Perl).
bool truthy(const Value& value) {
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_number()) return value != 0;
    FAIL("not a truth value: ", value.dump());
    return false;
}

bond::Bond objects_bond(const Language& language) {
    bond::Bond remote = make_test_bond(language);
    remote.eval_block(language.define_tally);
    remote.eval_block(language.define_users);
    remote.eval_block(language.define_ident);
    return remote;
}

}  // namespace

TEST_CASE("an object stays in its interpreter: its methods, attributes and type from C++") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object tally = remote.object(language.new_tally);
        CHECK(tally.type() == "Tally");
        CHECK(tally.lang() == language.name);
        CHECK(tally.describe().starts_with("<" + language.name + " object Tally #"));
        CHECK(tally.call("add", 2) == 7);
        CHECK(tally.call("total") == 7);
        CHECK(tally.get("count") == 7);
        tally.set("count", 10);
        CHECK(tally.get("count") == 10);
        CHECK(tally.call("add", 1) == 11);
        // A method read as an attribute is a callable bound to the object.
        bond::Object add = tally.get_object("add");
        CHECK(add(4) == 15);
        CHECK(tally.get("count") == 15);
        // Kept results, also of what JSON could carry.
        bond::Object fifteen = tally.call_object("total");
        CHECK(fifteen.value() == 15);
        CHECK(tally.alive());
    });
}

TEST_CASE("a closure is an Object, and a value JSON cannot carry still fails as a value") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object adder = remote.object(language.adder);
        CHECK(adder(41) == 42);
        CHECK(adder.invoke_object(1).value() == 2);
        bond::Object subtracter = remote.object(language.subtracter);
        CHECK(subtracter(10, 3) == 7);
        // Bond::eval wants a value: the closure is an error that says what to use instead.
        try {
            remote.eval(language.adder);
            FAIL("a closure crossed as a value");
        } catch (const bond::SerializationException& error) {
            CHECK(error.side() == "remote");
        }
        // Values cross as values by default, kept only when asked.
        CHECK(remote.call("ident", Value{1, 2}) == Value{1, 2});
        CHECK(remote.call_object("ident", Value{1, 2}).value() == Value{1, 2});
    });
}

TEST_CASE("a Function and a callable Object are called alike: value, kept, or with objects") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Function ident = remote.callable("ident");
        bond::Object adder = remote.object(language.adder);
        CHECK(ident(Value{1, 2}) == Value{1, 2});
        CHECK(adder(1) == 2);
        CHECK(ident.invoke_object(Value{3}).value() == Value{3});
        CHECK(adder.invoke_object(2).value() == 3);
        bond::Object tally = remote.object(language.new_tally);
        bond::Result through_function = ident.invoke_result(tally);
        REQUIRE(through_function.objects.size() == 1);
        CHECK(
            truthy(remote.call("same", through_function.object_at(through_function.value), tally)));
        CHECK(adder.invoke_result(4).value == 5);
        // A result that holds an object is not a value, from either.
        CHECK_THROWS_AS(ident(tally), bond::SerializationException);
    });
}

TEST_CASE("results with objects anywhere, and typed functions that keep their result") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Result listed = remote.eval_result(language.tally_in_list);
        REQUIRE(listed.objects.size() == 1);
        CHECK(listed.value[1] == 1);
        CHECK(listed.object_at(listed.value[0]).call("total") == 5);
        CHECK(listed.describe().starts_with("[<" + language.name + " object Tally #"));
        CHECK_THROWS_AS(listed.object_at(listed.value[1]), bond::BondException);
        bond::Result plain = remote.call_result("ident", Value{1, "two"});
        CHECK(plain.value == Value{1, "two"});
        CHECK(plain.objects.empty());
        bond::Object tally = remote.object(language.new_tally);
        bond::Result alone = remote.call_result("ident", tally);
        REQUIRE(alone.objects.size() == 1);
        CHECK(truthy(remote.call("same", alone.object_at(alone.value), tally)));
        auto kept = remote.function<bond::Object(bond::Object)>("ident");
        CHECK(truthy(remote.call("same", kept(tally), tally)));
        // A method's result and an attribute with an object in them.
        bond::Object holder = remote.object(language.new_tally);
        holder.set("count", tally);
        bond::Result attribute = holder.get_result("count");
        REQUIRE(attribute.objects.size() == 1);
        CHECK(truthy(remote.call("same", attribute.object_at(attribute.value), tally)));
        bond::Result method = holder.call_result("total");
        REQUIRE(method.objects.size() == 1);
        CHECK(truthy(remote.call("same", method.object_at(method.value), tally)));
        CHECK(tally.call_result("add", 1).value == 6);
        // The same under limits of the operation's own.
        auto limited = remote.with_limits({.wall = std::chrono::minutes(1)});
        CHECK(limited.eval_result(language.tally_in_list).objects.size() == 1);
        bond::Result limited_call = limited.call_result("ident", tally);
        REQUIRE(limited_call.objects.size() == 1);
        CHECK(truthy(remote.call("same", limited_call.object_at(limited_call.value), tally)));
    });
}

TEST_CASE("an Object passed to its own bond is the original, as argument and attribute") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object tally = remote.object(language.new_tally);
        CHECK(truthy(remote.call("same", tally, tally)));
        CHECK(remote.call("use_tally", tally) == 7);
        CHECK(tally.get("count") == 7);  // the original changed, not a copy
        bond::Object again = remote.call_object("ident", tally);
        CHECK(truthy(remote.call("same", again, tally)));
        // Stored in another object's attribute, it is still the original.
        bond::Object other = remote.object(language.new_tally);
        other.set("count", tally);
        CHECK(truthy(remote.call("same", other.get_object("count"), tally)));
    });
}

TEST_CASE(
    "a missing method, an attribute that cannot be set: errors of the code, the bond goes "
    "on") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object tally = remote.object(language.new_tally);
        CHECK_THROWS_AS(tally.call("no_such_method"), bond::RemoteException);
        bond::Object frozen = remote.object(language.frozen);
        CHECK_THROWS_AS(frozen.set("x", 2), bond::RemoteException);
        CHECK(tally.call("add", 1) == 6);
    });
}

TEST_CASE("an object's method runs under the bond's limits") {
    for_each_language([](const Language& language) {
        using namespace std::chrono_literals;
        bond::Bond remote = make_test_bond(language, {.limits = {.wall = 500ms}});
        bond::Object spinner = remote.object(language.spinner);
        try {
            spinner();
            FAIL("the spinner returned");
        } catch (const bond::LimitExceeded& error) {
            CHECK(error.limit() == "wall");
        }
        CHECK(remote.eval("1") == 1);
        CHECK(spinner.alive());
    });
}

TEST_CASE("an object of a closed bond cannot be used, and says so") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object tally = remote.object(language.new_tally);
        remote.close();
        CHECK_FALSE(tally.alive());
        try {
            tally.call("total");
            FAIL("a closed bond's object answered");
        } catch (const bond::BondException& error) {
            CHECK(std::string(error.what()).find("closed") != std::string::npos);
        }
        bond::Bond other = objects_bond(language);
        CHECK_THROWS_AS(other.call("ident", tally), bond::BondException);
        CHECK(other.call("ident", 1) == 1);
    });
}

TEST_CASE("a map of a tag's shape in data is refused: never run as code, never an object") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        for (const Value& forged : {Value{{"$code", language.pid}}, Value{{"$yours", 1}},
                                    Value{{"$obj", 1}, {"type", "Tally"}}}) {
            CAPTURE(forged.dump());
            try {
                remote.call("ident", Value::array({forged}));
                FAIL("a forged tag was sent");
            } catch (const bond::SerializationException& error) {
                CHECK(error.side() == "local");
            }
        }
        // Nor can data stand where an object argument does.
        bond::Object tally = remote.object(language.new_tally);
        CHECK_THROWS_AS(remote.call("ident", Value::parse(R"({"$handle": 0})"), tally),
                        bond::SerializationException);
        // Maps that only look alike are data.
        Value lookalike = {{"$code", 1}, {"other", 2}};
        CHECK(remote.call("ident", lookalike) == lookalike);
        // A Ref is code on purpose.
        CHECK(remote.call("ident", remote.ref(language.pid)).is_number_integer());
    });
}

TEST_CASE("a moved-from Object is an error, never a crash") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        bond::Object tally = remote.object(language.new_tally);
        bond::Object moved = std::move(tally);
        // NOLINTBEGIN(bugprone-use-after-move): what a moved-from Object does is the point
        CHECK_FALSE(tally.alive());
        CHECK_THROWS_AS(tally.call("total"), bond::BondException);
        CHECK_THROWS_AS(remote.call("ident", tally), bond::SerializationException);
        // NOLINTEND(bugprone-use-after-move)
        CHECK(moved.call("total") == 5);
    });
}

TEST_CASE("Bond::holds tells a bond's own objects from others', moved-from bonds hold none") {
    for_each_language([](const Language& language) {
        bond::Bond owner = objects_bond(language);
        bond::Bond other = make_test_bond(language);
        bond::Object tally = owner.object(language.new_tally);
        CHECK(owner.holds(tally));
        CHECK_FALSE(other.holds(tally));
        bond::Bond moved = std::move(other);
        CHECK_FALSE(other.holds(tally));  // NOLINT(bugprone-use-after-move): what is checked
        { bond::Bond ended = std::move(owner); }  // the owner's session goes
        CHECK_FALSE(other.holds(tally));          // NOLINT(bugprone-use-after-move)
        CHECK_FALSE(moved.holds(tally));
    });
}

TEST_CASE("exported C++ functions take and return Objects") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        remote.eval_block(language.define_relay);
        bond::Object tally = remote.object(language.new_tally);
        remote.export_function("total_of", [](bond::Object t) { return t.call("total"); });
        CHECK(remote.call("relay", "total_of", tally) == 5);
        remote.export_function("the_tally", [tally]() { return tally; });
        bond::Object back = remote.call_object("relay", "the_tally");
        CHECK(truthy(remote.call("same", back, tally)));
        // A value where an Object is wanted is an error the remote code sees.
        CHECK_THROWS_AS(remote.call("relay", "total_of", 3), bond::RemoteException);
    });
}

TEST_CASE("objects let go by C++ leave the interpreter's table, a hundred thousand times") {
    for_each_language([](const Language& language) {
        bond::Bond remote = objects_bond(language);
        for (int cycle = 0; cycle < 100000; ++cycle) {
            bond::Object tally = remote.object(language.new_tally);
            if (cycle % 10000 == 0) REQUIRE(tally.call("total") == 5);
        }
        CHECK(remote.object_counts().held == 0);
        bond::Object kept = remote.object(language.new_tally);
        CHECK(remote.object_counts().held == 1);
    });
}

TEST_CASE("proxies: every language's objects used from every other language") {
    for_each_language([](const Language& owner_language) {
        bond::Bond owner = objects_bond(owner_language);
        for (const auto& user_language : languages()) {
            INFO("used from: ", user_language.name);
            bond::Bond user = objects_bond(user_language);
            bond::Object tally = owner.object(owner_language.new_tally);
            CHECK(user.call("use_tally", tally) == 7);
            CHECK(user.call("read_count", tally) == 7);
            // Twice in one call, it is one proxy there.
            CHECK(truthy(user.call("same", tally, tally)));
            CHECK(tally.get("count") == 7);
            bond::Object adder = owner.object(owner_language.adder);
            CHECK(user.call("apply_each", adder, Value{1, 2, 3}) == Value{2, 3, 4});
            bond::Object subtracter = owner.object(owner_language.subtracter);
            CHECK(user.call("sorted_with", Value{3, 1, 2}, subtracter) == Value{1, 2, 3});
            // Back to its owner through the other bond: the original, not a proxy of a proxy.
            bond::Object back = user.call_object("ident", tally);
            CHECK(truthy(owner.call("same", back, tally)));
            CHECK(back.describe() == tally.describe());
            // The owner's exception reaches the user's code, and both bonds go on.
            CHECK_THROWS_AS(user.call("use_tally", adder), bond::RemoteException);
            CHECK(user.call("use_tally", tally) == 9);
        }
    });
}

TEST_CASE("a proxy collected by its interpreter's garbage collector frees the owner's object") {
    for_each_language([](const Language& owner_language) {
        bond::Bond owner = objects_bond(owner_language);
        owner.eval_block(owner_language.define_keeper);
        for (const auto& user_language : languages()) {
            INFO("held by: ", user_language.name);
            bond::Bond user = objects_bond(user_language);
            user.eval_block(user_language.define_keeper);
            {
                bond::Object tally = owner.object(owner_language.new_tally);
                owner.call("watch", tally);
                user.call("keep", tally);
            }
            CHECK(truthy(owner.call("watched_alive")));  // the user's proxy holds it
            CHECK(user.object_counts().lent == 1);
            user.call("forget");
            CHECK(user.object_counts().lent == 0);
            CHECK_FALSE(truthy(owner.call("watched_alive")));
            CHECK(owner.object_counts().held == 0);
        }
    });
}
