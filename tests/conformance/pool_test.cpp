// bond::Pool: interpreters started in advance, handed out at once, replaced in the background;
// failed starts, interpreters that died while they waited, and the pool's end.
#include "../support/processes.hpp"
#include "languages.hpp"

#include <bond/pool.hpp>

#include <doctest/doctest.h>

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

using namespace conformance;

namespace {

const Language& python() {
    return *std::find_if(languages().begin(), languages().end(),
                         [](const Language& language) { return language.name == "Python"; });
}

// The interpreters this test process has started and not yet reaped: the pool's.
std::vector<int> own_children() {
    return children_of(::getpid());
}

// A directory of the test's own, removed at the end.
struct TemporaryDirectory {
    TemporaryDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "bond_pool_XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~TemporaryDirectory() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

// An executable shell script with this body.
void write_script(const std::filesystem::path& path, const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

bool process_exists(int pid) {
    return ::kill(pid, 0) == 0;
}

}  // namespace

TEST_CASE("bond::Pool: bonds are ready before they are asked for, and each one taken is replaced") {
    for_each_language([](const Language& language) {
        bond::Pool pool(language.name, 2);
        pool.wait_until_full();
        CHECK(pool.ready() == 2);
        // try_take never waits for a start: a bond it hands out was started before it was asked.
        std::optional<bond::Bond> first = pool.try_take();
        REQUIRE(first.has_value());
        CHECK(pool.ready() == 1);
        first->eval_block(language.define_add);
        CHECK(first->call("add", 2, 3) == 5);
        pool.wait_until_full();
        CHECK(pool.ready() == 2);
        std::optional<bond::Bond> second = pool.try_take();
        REQUIRE(second.has_value());
        CHECK(second->pid() != first->pid());
        // Its own interpreter: nothing of the first bond's definitions.
        CHECK_THROWS_AS(second->call("add", 2, 3), bond::RemoteException);
        CHECK(second->lang() == first->lang());
    });
}

TEST_CASE("bond::Pool: take waits for the next start when none is ready, from several threads") {
    bond::Pool pool(python().name, 1);
    std::vector<std::optional<bond::Bond>> taken(4);
    {
        std::vector<std::jthread> takers;
        for (auto& slot : taken) takers.emplace_back([&pool, &slot] { slot.emplace(pool.take()); });
    }
    std::set<int> pids;
    for (auto& bond : taken) {
        REQUIRE(bond.has_value());
        CHECK(bond->eval("6 * 7") == 42);
        pids.insert(bond->pid());
    }
    CHECK(pids.size() == taken.size());
}

TEST_CASE("bond::Pool: a failed start is the taker's error, once, and the next take starts again") {
    CHECK_THROWS_WITH_AS(bond::Pool("Cobol", 1), doctest::Contains("unknown language 'Cobol'"),
                         bond::BondException);
    CHECK_THROWS_WITH_AS(bond::Pool(python().name, 0), doctest::Contains("at least 1"),
                         bond::BondException);

    // The interpreter's command is a script that does not exist yet.
    TemporaryDirectory directory;
    std::filesystem::path command = directory.path / "python3";
    bond::Pool pool(python().name, 1, {.command = command.string()});
    CHECK_THROWS_WITH_AS(pool.wait_until_full(), doctest::Contains(command.c_str()),
                         bond::BondException);
    CHECK(pool.ready() == 0);
    // Seen once: the next take starts again, and fails again.
    CHECK_THROWS_WITH_AS(pool.take(), doctest::Contains(command.c_str()), bond::BondException);
    // Now it can start: the next take's start succeeds.
    write_script(command, "exec python3 \"$@\"\n");
    bond::Bond taken = pool.take();
    CHECK(taken.eval("6 * 7") == 42);
}

TEST_CASE("bond::Pool: try_take never throws, even on a pool paused by a failed start") {
    TemporaryDirectory directory;
    std::filesystem::path command = directory.path / "python3";
    bond::Pool pool(python().name, 1, {.command = command.string()});
    CHECK_THROWS_AS(pool.wait_until_full(), bond::BondException);  // the first start failed
    write_script(command, "exec python3 \"$@\"\n");
    CHECK_FALSE(pool.try_take().has_value());
    pool.wait_until_full();
    std::optional<bond::Bond> taken = pool.try_take();
    REQUIRE(taken.has_value());
    CHECK(taken->eval("6 * 7") == 42);
}

TEST_CASE("bond::Pool: its end starts nothing more, and sandboxed bonds taken live on") {
    TemporaryDirectory directory;
    std::filesystem::path starts = directory.path / "starts";
    std::filesystem::path command = directory.path / "python3";
    write_script(command, "echo started >> '" + starts.string() + "'\nexec python3 \"$@\"\n");
    { bond::Pool pool(python().name, 4, {.command = command.string()}); }
    // At most the start that was in progress when the pool ended.
    std::ifstream lines(starts);
    int count = 0;
    for (std::string line; std::getline(lines, line);) ++count;
    CHECK(count <= 1);

    // A sandboxed interpreter ends with the thread that started it (bwrap --die-with-parent):
    // the pool's starter outlives the pool.
    std::optional<bond::Bond> sandboxed;
    {
        bond::Pool pool(python().name, 1, {.sandbox = bond::Sandbox{}});
        sandboxed.emplace(pool.take());
    }
    CHECK(sandboxed->eval("6 * 7") == 42);
}

TEST_CASE("bond::Pool: an interpreter that died while it waited is not handed out") {
    bond::Pool pool(python().name, 1);
    pool.wait_until_full();
    std::vector<int> waiting = own_children();
    REQUIRE(waiting.size() == 1);
    REQUIRE(::kill(waiting[0], SIGKILL) == 0);
    REQUIRE(wait_for_end(waiting[0],
                         std::chrono::seconds(60)));  // kill() returns before the process has ended
    bond::Bond taken = pool.take();
    CHECK(taken.pid() != waiting[0]);
    CHECK(taken.eval("6 * 7") == 42);
    CHECK_FALSE(process_exists(waiting[0]));  // closed (and reaped) when it was passed over
}

TEST_CASE("bond::Pool: its end closes the bonds not taken and a start in progress") {
    std::vector<int> waiting;
    std::optional<bond::Bond> kept;
    {
        bond::Pool pool(python().name, 2);
        pool.wait_until_full();
        waiting = own_children();
        REQUIRE(waiting.size() == 2);
        // The pool's thread waits under SCHED_BATCH; its interpreters run under the usual policy.
        for (int pid : waiting) CHECK(::sched_getscheduler(pid) == SCHED_OTHER);
        kept.emplace(pool.take());  // a start begins to replace it
    }
    CHECK(own_children() == std::vector<int>{kept->pid()});
    for (int pid : waiting)
        if (pid != kept->pid()) CHECK_FALSE(process_exists(pid));
    CHECK(kept->eval("6 * 7") == 42);  // a bond taken is the taker's, whatever becomes of the pool
}
