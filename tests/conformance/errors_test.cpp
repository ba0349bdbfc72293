// Errors never kill a bond: each raises the right exception and the next call works.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <cmath>
#include <memory>

#include <sstream>

using bond::Value;
using namespace conformance;

namespace {
// Long enough for any ordinary call on a loaded machine, short enough for a test that waits for it
// to run out on code that never ends. Start-up has its own, longer, start_timeout.
constexpr std::chrono::milliseconds kShortTimeout{2000};
}  // namespace

TEST_CASE("a remote exception is a RemoteException with the remote message, the bond goes on") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_fails);
        remote.eval_block(language.define_add);
        try {
            remote.call("fails");
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CHECK(error.message().find("boom") != std::string::npos);
            CHECK(error.data() == error.message());
            CHECK(error.lang() == language.name);
            CHECK(std::string(error.what()).find("RemoteException[" + language.name + "]") == 0);
        }
        CHECK(remote.alive());
        CHECK(remote.call("add", 1, 2) == 3);
    });
}

TEST_CASE("syntax errors and undefined functions are RemoteExceptions") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_add);
        CHECK_THROWS_AS(remote.eval(language.syntax_error), bond::RemoteException);
        CHECK(remote.call("add", 1, 2) == 3);
        CHECK_THROWS_AS(remote.eval_block(language.syntax_error), bond::RemoteException);
        CHECK(remote.call("add", 1, 2) == 3);
        CHECK_THROWS_AS(remote.eval(language.undefined_function), bond::RemoteException);
        CHECK_THROWS_AS(remote.call("no_such_function", 1), bond::RemoteException);
        CHECK(remote.call("add", 1, 2) == 3);
    });
}

TEST_CASE("a remote exception's stack names the user's file, lines and functions, not the driver") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        try {
            remote.eval_block(language.die_file, "die.x");
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CAPTURE(error.what());
            const auto& stack = error.stack();
            REQUIRE(stack.size() >= 2);
            CHECK(stack[0].file == "die.x");
            CHECK(stack[0].line == 2);
            CHECK(stack[0].function == language.die_file_function);
            CHECK(stack[1].file == "die.x");
            CHECK(stack[1].line == 4);
            for (const auto& frame : stack) CHECK(frame.file == "die.x");  // no driver's frame
        }
        // The same function called later, from code that has no file name.
        try {
            remote.eval(language.call_export("f"));
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CAPTURE(error.what());
            REQUIRE(!error.stack().empty());
            CHECK(error.stack()[0] == bond::StackFrame{"die.x", 2, language.die_file_function});
            CHECK(error.stack().size() == 2);  // f's line, and the line of the eval that called it
        }
    });
}

TEST_CASE("a syntax error names the user's file and line, and the first line is line 1") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        try {
            remote.eval_block(language.syntax_error_file, "bad.x");
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CAPTURE(error.what());
            REQUIRE(!error.stack().empty());
            CHECK(error.stack()[0].file == "bad.x");
            CHECK(error.stack()[0].line == 2);
        }
        for (bool block : {false, true}) {
            CAPTURE(block);
            try {
                if (block)
                    remote.eval_block(language.syntax_error);
                else
                    remote.eval(language.syntax_error);
                FAIL("no exception");
            } catch (const bond::RemoteException& error) {
                CAPTURE(error.what());
                REQUIRE(!error.stack().empty());
                CHECK(error.stack()[0].line == 1);
                CHECK(error.message().find("bad.x") == std::string::npos);
                CHECK(error.message().find("line 2") == std::string::npos);
            }
        }
    });
}

TEST_CASE("user code that reassigns or deletes the language's globals does not break the bond") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        remote.eval_block(language.define_add);
        remote.eval_block(language.define_ident);
        remote.eval_block(language.define_fails);
        remote.eval_block(language.print_line("before"));
        remote.export_function("seven", [] { return 7; });
        std::string failed;  // the error's message before: the same after
        try {
            remote.call("fails");
        } catch (const bond::RemoteException& error) {
            failed = error.message();
        }
        remote.eval_block(language.clobber_globals);
        CHECK(remote.call("add", 1, 2) == 3);
        CHECK(remote.call("add", 0.1, 0.2).get<double>() == 0.1 + 0.2);  // 0.30000000000000004
        Value mixed = {"text", 1.5, -3, nullptr, true, Value::binary({0, 255}), {{"key", {1, 2}}}};
        mixed.push_back(0.1 + 0.2);  // floats exact
        mixed.push_back(-1e300);
        CHECK(remote.call("ident", mixed) == mixed);
        CHECK(remote.eval(language.call_export("seven")) == 7);
        remote.export_function("eight", [] { return 8; });
        CHECK(remote.eval(language.call_export("eight")) == 8);
        try {
            remote.call("fails");
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CHECK(error.message() == failed);
        }
        CHECK(remote.call("add", 2, 3) == 5);
        CHECK(remote.alive());
        CHECK(output.text(bond::Channel::Stdout) == "before\nafter\n");
    });
}

TEST_CASE("a result JSON cannot carry is a remote SerializationException") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_add);
        for (const auto& expression : language.unserializable) {
            CAPTURE(expression);
            try {
                remote.eval(expression);
                FAIL("serialized");
            } catch (const bond::SerializationException& error) {
                CHECK(error.side() == "remote");
            }
            CHECK(remote.call("add", 1, 2) == 3);
        }
    });
}

TEST_CASE("an argument JSON cannot carry is a local SerializationException, nothing sent") {
    for_each_language([](const Language& language) {
        std::ostringstream traffic;
        bond::Bond remote = make_test_bond(language, {.logfile = &traffic});
        remote.eval_block(language.define_add);
        std::string before = traffic.str();
        try {
            remote.call("add", std::string("\xff\xfe invalid UTF-8"), 1);
            FAIL("sent");
        } catch (const bond::SerializationException& error) {
            CHECK(error.side() == "local");
        }
        CHECK_THROWS_AS(remote.eval("\xc3"), bond::SerializationException);
        CHECK(traffic.str() == before);
        CHECK(remote.call("add", 1, 2) == 3);
    });
}

TEST_CASE("with trans_except the exception object arrives serialized in data()") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.trans_except = true});
        remote.eval_block(language.define_fails);
        try {
            remote.call("fails");
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            REQUIRE(error.data().is_object());
            CHECK(error.data()["type"] == language.error_type);
            CHECK(error.data()["message"].get<std::string>().find("boom") != std::string::npos);
        }
    });
}

TEST_CASE("a C++ exception in an export reaches the remote code as a native, catchable error") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_catching);
        remote.export_function("thrower", []() -> int { throw std::runtime_error("from C++"); });
        CHECK(remote.call("catching") == "from C++");
        // Wrong arity or types are ordinary errors of the remote code too.
        remote.export_function("thrower", [](int x) { return x; });
        CHECK(remote.call("catching").get<std::string>().find("expected 1 argument") !=
              std::string::npos);
        CHECK(remote.alive());
    });
}

TEST_CASE("a remote exception inside nested calls unwinds both stacks") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_down);
        std::size_t depth_seen = 0;
        bool fail_at_bottom = true;
        remote.export_function("up", [&](int n) {
            depth_seen = remote.depth();
            if (n == 0 && fail_at_bottom) throw std::runtime_error("bottom of the stack");
            return remote.call("down", n).get<int>() + 1;
        });
        try {
            remote.call("down", 10);
            FAIL("no exception");
        } catch (const bond::RemoteException& error) {
            CHECK(error.message().find("bottom of the stack") != std::string::npos);
        }
        CHECK(depth_seen == 10);
        CHECK(remote.depth() == 0);
        // The next nested call starts from the top again: depth one inside the export.
        fail_at_bottom = false;
        CHECK(remote.call("down", 1) == 2);
        CHECK(depth_seen == 1);
    });
}

TEST_CASE("no reply within the timeout is a TimeoutException and closes the bond") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.timeout = kShortTimeout});
        int pid = interpreter_pid(remote, language);
        CHECK_THROWS_AS(remote.eval_block(language.infinite_loop), bond::TimeoutException);
        CHECK_FALSE(remote.alive());
        CHECK(::kill(pid, 0) != 0);  // the interpreter is gone
        CHECK_THROWS_AS(remote.eval("1"), bond::TerminatedException);
    });
}

TEST_CASE("a timeout deep in nested calls unwinds to the caller, not into the remote code") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.timeout = kShortTimeout});
        remote.eval_block(language.define_catching);
        remote.export_function("thrower", [&] { remote.eval_block(language.infinite_loop); });
        CHECK_THROWS_AS(remote.call("catching"), bond::TimeoutException);
        CHECK_FALSE(remote.alive());
    });
}

TEST_CASE("the longest timeout means no timeout, not an overflow") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.timeout = std::chrono::milliseconds::max()});
        CHECK(remote.eval("1 + 1") == 2);
    });
}

TEST_CASE("NaN and infinite arguments are local SerializationExceptions, nothing sent") {
    for_each_language([](const Language& language) {
        std::ostringstream traffic;
        bond::Bond remote = make_test_bond(language, {.logfile = &traffic});
        remote.eval_block(language.define_ident);
        std::string before = traffic.str();
        for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
            CAPTURE(bad);
            CHECK_THROWS_AS(remote.call("ident", bad), bond::SerializationException);
            CHECK_THROWS_AS(remote.call("ident", std::vector<double>{1.0, bad}),
                            bond::SerializationException);
        }
        CHECK(traffic.str() == before);
        CHECK(remote.call("ident", 1.5) == 1.5);
    });
}

TEST_CASE("a timeout stays a TimeoutException when an export turns it into another error") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.timeout = kShortTimeout});
        remote.eval_block(language.define_catching);
        remote.export_function("thrower", [&] {
            try {
                remote.eval_block(language.infinite_loop);
            } catch (const std::exception& error) {
                throw std::runtime_error(std::string("wrapped: ") + error.what());
            }
        });
        CHECK_THROWS_AS(remote.call("catching"), bond::TimeoutException);
        CHECK_FALSE(remote.alive());
    });
}

TEST_CASE("a bond destroyed by its own export ends the call cleanly") {
    for_each_language([](const Language& language) {
        auto remote = std::make_unique<bond::Bond>(make_test_bond(language));
        remote->eval_block(language.define_catching);
        remote->export_function("thrower", [&remote] { remote.reset(); });
        // The Bond whose call is running is destroyed during that call.
        CHECK_THROWS_AS(remote->call("catching"), bond::TerminatedException);
        CHECK(remote == nullptr);
    });
}

TEST_CASE("a message longer than max_message_size is refused, even within one read") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language, {.max_message_size = 1000});
        remote.eval_block(language.define_ident);
        CHECK(remote.call("ident", std::string(500, 'x')) == std::string(500, 'x'));
        CHECK_THROWS_WITH_AS(remote.call("ident", std::string(2000, 'x')),
                             doctest::Contains("protocol error"), bond::BondException);
        CHECK_FALSE(remote.alive());
    });
}
