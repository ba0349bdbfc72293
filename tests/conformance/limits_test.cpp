// Limits and interrupt(): runaway code of every kind is stopped inside the interpreter, the caller
// gets LimitExceeded or Interrupted, and the bond goes on with its state intact; code that cannot
// be stopped is killed after the grace period. Limits are short (100-500 ms); the other deadlines
// only guard against a hang.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

using bond::Value;
using namespace conformance;
using namespace std::chrono_literals;

namespace {

// Runs `operation`, which must raise LimitExceeded for `limit`; returns its message.
template <class Operation>
std::string limit_message(const std::string& limit, Operation&& operation) {
    try {
        operation();
    } catch (const bond::LimitExceeded& error) {
        CHECK(error.limit() == limit);
        return error.message();
    }
    FAIL("no LimitExceeded(\"" << limit << "\")");
    return "";
}

// A bond with state to check afterwards: add() and a global x.
bond::Bond bond_with_state(const Language& language, bond::Options options = {}) {
    if (!options.on_output) options.on_output = [](bond::Channel, std::string_view) {};
    bond::Bond remote = make_test_bond(language, std::move(options));
    remote.eval_block(language.define_add);
    remote.eval_block(language.set_global);
    return remote;
}

void check_state_intact(const Language& language, bond::Bond& remote) {
    CHECK(remote.alive());
    CHECK(remote.call("add", 1, 2) == 3);
    CHECK(remote.eval(language.get_global) == 5);
}

void check_killed(const Language& language, bond::Bond& remote, int pid) {
    CHECK_FALSE(remote.alive());
    CHECK(::kill(pid, 0) != 0);
    CHECK_THROWS_AS(remote.eval(language.get_global), bond::TerminatedException);
}

}  // namespace

TEST_CASE("a runaway loop is stopped at the time limit and the bond keeps its state") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        for (const auto& loop : language.runaway_loops) {
            CAPTURE(loop);
            std::string message = limit_message(
                "wall", [&] { remote.with_limits({.wall = 300ms}).eval_block(loop); });
            CHECK(message == "the code ran longer than its time limit of 300 ms and was stopped");
            check_state_intact(language, remote);
        }
    });
}

TEST_CASE("the bond's limits apply to every operation, with_limits replaces them field by field") {
    for_each_language([](const Language& language) {
        // 1 s: every operation runs under it, also the short ones that must not hit it on a
        // loaded machine (a sanitized host, JavaScript through sudo).
        bond::Bond remote = bond_with_state(language, {.limits = {.wall = 1s, .output = 10}});
        limit_message("wall", [&] { remote.eval_block(language.infinite_loop); });
        check_state_intact(language, remote);
        limit_message("output", [&] { remote.eval_block(language.print_line("more than ten")); });
        // Its own output limit, the bond's time limit.
        remote.with_limits({.output = 100}).eval_block(language.print_line("more than ten"));
        limit_message("wall", [&] {
            remote.with_limits({.output = 100}).eval_block(language.infinite_loop);
        });
        check_state_intact(language, remote);
    });
}

TEST_CASE("the time limit covers time blocked in sleep and in a read") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        for (const auto& blocking : {language.sleep_forever, language.blocking_read}) {
            CAPTURE(blocking);
            limit_message("wall",
                          [&] { remote.with_limits({.wall = 300ms}).eval_block(blocking); });
            check_state_intact(language, remote);
        }
    });
}

TEST_CASE("the CPU limit stops a busy loop, sleeping uses no CPU") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        std::string message = limit_message(
            "cpu", [&] { remote.with_limits({.cpu = 200ms}).eval_block(language.infinite_loop); });
        CHECK(message == "the code used more than its CPU time limit of 200 ms and was stopped");
        check_state_intact(language, remote);
        // Sleeping: only the time limit ends it.
        limit_message("wall", [&] {
            remote.with_limits({.wall = 500ms, .cpu = 200ms}).eval_block(language.sleep_forever);
        });
        check_state_intact(language, remote);
        // The CPU budget is per operation: many short ones never add up to the limit.
        for (int i = 0; i < 20; ++i)
            CHECK(remote.with_limits({.cpu = 200ms}).call("add", i, 1) == i + 1);
    });
}

TEST_CASE("the memory limit stops a memory bomb, the host is untouched") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        int pid = interpreter_pid(remote, language);
        std::string message = limit_message("memory", [&] {
            remote.with_limits({.wall = 20s, .memory = 64 << 20}).eval_block(language.memory_bomb);
        });
        CHECK(message.find("the code needed more than its memory limit of 64 MiB") == 0);
        if (language.survives_memory_limit) {
            check_state_intact(language, remote);
            // Memory the bomb held is given back: the next operation under the limit runs.
            CHECK(remote.with_limits({.memory = 64 << 20}).call("add", 1, 2) == 3);
        } else {
            check_killed(language, remote, pid);
        }
    });
}

TEST_CASE("an output flood ends at the output limit, exactly the limit is delivered") {
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote = bond_with_state(language, {.on_output = output.sink()});
        std::string message = limit_message("output", [&] {
            // A generous grace: what the flood left in the transport's buffers (ssh's above
            // all) is read before the answer, and how long that takes is the machine's speed.
            remote.with_limits({.output = 100000, .grace = 20s}).eval_block(language.output_flood);
        });
        CHECK(message ==
              "the code wrote more than its output limit of 100000 bytes and was stopped");
        CHECK(output.all().size() == 100000);
        CHECK(output.all().find_first_not_of("x\n") == std::string::npos);
        check_state_intact(language, remote);
    });
}

TEST_CASE("interrupt() from another thread stops the running code with Interrupted") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        try {
            interrupt_once_started(remote, [&] {
                remote.eval_block(language.call_export("started") + "\n" + language.infinite_loop);
            });
            FAIL("no exception");
        } catch (const bond::Interrupted& error) {
            CHECK(error.message() == "the code was interrupted");
            CHECK(std::string(error.what()) ==
                  "Interrupted[" + language.name + "]: the code was interrupted");
        }
        check_state_intact(language, remote);
        remote.interrupt();  // idle: nothing to stop, and the next call is not affected
        CHECK(remote.call("add", 2, 2) == 4);
    });
}

TEST_CASE("code that swallows the interrupt is killed after the grace period") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        int pid = interpreter_pid(remote, language);
        std::string message = limit_message("wall", [&] {
            remote.with_limits({.wall = 200ms, .grace = 300ms})
                .eval_block(language.swallowing_loop);
        });
        CHECK(message ==
              "the code ran longer than its time limit of 200 ms and was stopped; it did not stop "
              "within 300 ms, so the interpreter was killed");
        check_killed(language, remote, pid);
    });
}

TEST_CASE("a runaway loop in a nested call from an exported function stops the whole call") {
    for_each_language([](const Language& language) {
        for (bool export_catches : {false, true}) {
            CAPTURE(export_catches);
            bond::Bond remote = bond_with_state(language);
            remote.eval_block(language.define_catching);
            bool nested_stopped = false;
            remote.export_function("thrower", [&] {
                try {
                    remote.eval_block(language.infinite_loop);
                } catch (const bond::LimitExceeded& error) {
                    nested_stopped = error.limit() == "wall";
                    if (!export_catches) throw;
                }
            });
            limit_message("wall", [&] { remote.with_limits({.wall = 300ms}).call("catching"); });
            CHECK(nested_stopped);
            check_state_intact(language, remote);
        }
    });
}

TEST_CASE("limits describe themselves in words") {
    for_each_language([](const Language& language) {
        bond::Bond remote = bond_with_state(language);
        std::string message = limit_message("output", [&] {
            remote.with_limits({.output = 1 << 10}).eval_block(language.output_flood);
        });
        CHECK(message == "the code wrote more than its output limit of 1 KiB and was stopped");
        message = limit_message("wall", [&] {
            remote.with_limits({.wall = 1500ms}).eval_block(language.sleep_forever);
        });
        CHECK(message == "the code ran longer than its time limit of 1.5 s and was stopped");
    });
}

TEST_CASE("an interrupt that comes while the driver writes output is not lost") {
    for_each_language([](const Language& language) {
        // on_output runs as the output arrives: the interrupt then races the driver's writing.
        for (int round = 0; round < 5; ++round) {
            CAPTURE(round);
            bond::Bond* running = nullptr;
            std::mutex mutex;
            std::condition_variable printed;
            bool seen = false;
            bond::Bond remote =
                bond_with_state(language, {.on_output = [&](bond::Channel, std::string_view) {
                                    std::lock_guard lock(mutex);
                                    seen = true;
                                    printed.notify_all();
                                }});
            running = &remote;
            std::thread interrupter([&] {
                std::unique_lock lock(mutex);
                printed.wait(lock, [&] { return seen; });
                running->interrupt();
            });
            CHECK_THROWS_AS(
                remote.eval_block(language.print_line("running") + "\n" + language.sleep_forever),
                bond::Interrupted);
            interrupter.join();
            check_state_intact(language, remote);
        }
    });
}
