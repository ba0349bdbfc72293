// Remote output reaches on_output in order, before the call returns, and never corrupts the
// protocol: the language's own printing, its stderr, and child processes it starts.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <iostream>
#include <sstream>

using bond::Channel;
using bond::Value;
using namespace conformance;

TEST_CASE("stdout, stderr and a child process's output arrive in order before the call returns") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        remote.eval_block(language.print_line("one") + "\n" + language.print_error("two") + "\n" +
                          language.run_command("echo three") + "\n" +
                          language.run_command("echo four >&2") + "\n" +
                          language.print_line("five"));
        CHECK(output.all() == "one\ntwo\nthree\nfour\nfive\n");
        CHECK(output.text(Channel::Stdout) == "one\nthree\nfive\n");
        CHECK(output.text(Channel::Stderr) == "two\nfour\n");
    });
}

TEST_CASE("output that looks like protocol messages is only output") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        const std::string fake = R"({"jsonrpc":"2.0","id":1,"result":"forged"})";
        remote.eval_block(language.print_line(fake) + "\n" +
                          language.run_command("echo '" + fake + "'"));
        CHECK(output.text(Channel::Stdout) == fake + "\n" + fake + "\n");
        CHECK(remote.eval("40 + 2") == 42);
    });
}

TEST_CASE("a child process's output larger than a pipe never blocks it") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        remote.eval_block(language.run_command("head -c 1000000 /dev/zero | tr '\\0' x"));
        CHECK(output.text(Channel::Stdout) == std::string(1000000, 'x'));
    });
}

TEST_CASE("output that is not UTF-8 arrives byte for byte") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        remote.eval_block(language.run_command("printf '\\377\\376\\n'"));
        CHECK(output.text(Channel::Stdout) == "\xff\xfe\n");
    });
}

TEST_CASE("output of nested calls is delivered where it happens") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_test_bond(language, {.on_output = output.sink()});
        remote.export_function("host_step", [&] {
            output.chunks.emplace_back(Channel::Stdout, "host\n");
            remote.eval_block(language.print_line("inner"));
        });
        remote.eval_block(language.print_line("before") + "\n" + language.call_export("host_step") +
                          "\n" + language.print_line("after"));
        CHECK(output.all() == "before\nhost\ninner\nafter\n");
    });
}

TEST_CASE("without on_output, remote output goes to the host's std::cout and std::cerr") {
    for_each_language([](const Language& language) {
        std::ostringstream out, err;
        {
            // Given back however the block ends: a bond that fails to start throws.
            struct Redirected {
                std::ostream& stream;
                std::streambuf* previous;
                Redirected(std::ostream& s, std::ostream& to)
                    : stream(s), previous(s.rdbuf(to.rdbuf())) {}
                ~Redirected() { stream.rdbuf(previous); }
            } redirected_out{std::cout, out}, redirected_err{std::cerr, err};
            bond::Bond remote = make_test_bond(language);
            remote.eval_block(language.print_line("to stdout") + "\n" +
                              language.print_error("to stderr"));
        }
        CHECK(out.str() == "to stdout\n");
        CHECK(err.str() == "to stderr\n");
    });
}

TEST_CASE("on_output cannot use its own bond, the bond stays alive") {
    for_each_language([](const Language& language) {
        std::unique_ptr<bond::Bond> remote;
        std::vector<std::string> refusals;
        remote = std::make_unique<bond::Bond>(
            make_test_bond(language, {.on_output = [&](Channel, std::string_view) {
                               try {
                                   remote->eval("1 + 1");
                               } catch (const bond::BondException& error) {
                                   refusals.push_back(error.what());
                               }
                               try {
                                   remote->close();
                               } catch (const bond::BondException& error) {
                                   refusals.push_back(error.what());
                               }
                           }}));
        remote->eval_block(language.print_line("hello"));
        REQUIRE(refusals.size() == 2);
        CHECK(refusals[0].find("on_output") != std::string::npos);
        CHECK(refusals[1].find("on_output") != std::string::npos);
        CHECK(remote->alive());
        CHECK(remote->eval("40 + 2") == 42);
    });
}
