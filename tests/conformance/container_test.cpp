// Options::container, for every language and every container preset (LXC privileged and
// unprivileged, systemd-nspawn): what the contained interpreter cannot reach (the network, the
// host's files and processes), what still works (limits, exports, output), and that closing, a
// timeout or the host's death leave no container and no process behind. The whole conformance
// suite also runs in each (conformance_through.sh). Unprivileged LXC needs root:100000:65536 in
// /etc/subuid and /etc/subgid, which ctest's fixture containers/subids_start adds and removes.
#include "../support/processes.hpp"
#include "languages.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

using bond::Value;
using namespace conformance;
using namespace std::chrono_literals;

namespace {

struct Preset {
    std::string name;
    bond::Container container;
    std::string tool;  // its program, which must be installed
};

std::vector<Preset> presets() {
    return {{"LXC", bond::Lxc{}, "lxc-execute"},
            {"unprivileged LXC", bond::Lxc{.id_map = bond::IdMap{}}, "lxc-execute"},
            {"systemd-nspawn", bond::Nspawn{}, "systemd-nspawn"}};
}

bool installed(const std::string& tool) {
    for (const char* directory : {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"})
        if (::access((directory + tool).c_str(), X_OK) == 0) return true;
    return false;
}

// Runs `test` for every preset whose tool is installed and every language. A missing tool is a
// skip (BOND-SKIP:, which ctest reports as such), or a failure under CI.
void for_each_preset(const std::function<void(const Preset&, const Language&)>& test) {
    for (const auto& preset : presets()) {
        if (!installed(preset.tool)) {
            if (std::getenv("CI")) FAIL("CI must run this, but ", preset.tool, " is missing");
            MESSAGE("BOND-SKIP: ", preset.tool, " is not installed (scripts/setup installs it)");
            continue;
        }
        INFO("container: ", preset.name);
        for_each_language([&](const Language& language) { test(preset, language); });
    }
}

// A directory of the host outside /tmp (which a container replaces by its own), open to all:
// an unprivileged container's root is an ordinary user of the host, who may not reach the build
// tree (a clone in a directory of mktemp -d is the owner's alone), hence /var/tmp.
struct HostDirectory {
    std::filesystem::path path;
    explicit HostDirectory(const std::string& name)
        : path(std::filesystem::path("/var/tmp") /
               ("bond_container_" + name + "_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
        std::filesystem::permissions(path, std::filesystem::perms::all);
    }
    ~HostDirectory() {
        std::error_code error;
        std::filesystem::remove_all(path, error);
    }
};

// The host's processes whose environment holds BOND_CONTAINER_MARK=mark: those in the container.
std::vector<int> marked_processes(const std::string& mark) {
    std::vector<int> found;
    std::string wanted = "BOND_CONTAINER_MARK=" + mark;
    for (int pid : running_processes()) {
        std::ifstream environ("/proc/" + std::to_string(pid) + "/environ");
        for (std::string variable; std::getline(environ, variable, '\0');)
            if (variable == wanted) found.push_back(pid);
    }
    return found;
}

// The cgroups LXC made for the container of a process in it ("" for systemd-nspawn).
std::string lxc_name_of(int pid) {
    std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(cgroups, line);)
        if (auto at = line.find("lxc.payload."); at != std::string::npos) {
            std::string name = line.substr(at + 12);
            return name.substr(0, name.find('/'));
        }
    return "";
}

// The cgroup directories of that name left in any hierarchy.
std::vector<std::string> lxc_cgroups(const std::string& name) {
    std::vector<std::string> left;
    std::error_code error;
    for (std::filesystem::recursive_directory_iterator it("/sys/fs/cgroup", error), end;
         !error && it != end; it.increment(error)) {
        if (!it->is_directory(error)) continue;
        std::string leaf = it->path().filename();
        if (leaf == "lxc.payload." + name || leaf == "lxc.monitor." + name)
            left.push_back(it->path());
        if (it.depth() >= 2) it.disable_recursion_pending();
    }
    return left;
}

std::string unique_mark() {
    static int next = 0;
    return std::to_string(::getpid()) + "-" + std::to_string(++next);
}

bond::Options marked(const Preset& preset, const std::string& mark) {
    return {.env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"},
                                                      {"BOND_CONTAINER_MARK", mark}},
            .container = preset.container};
}

}  // namespace

TEST_CASE("containers: no network, the host's files read-only, a private /tmp, no host process") {
    for_each_preset([](const Preset& preset, const Language& language) {
        HostDirectory host("host");
        LoopbackListener listener;
        std::string port = std::to_string(listener.port);
        std::string private_file = "/tmp/bond_container_private_" + std::to_string(::getpid());

        bond::Bond outside = make_test_bond(language);
        REQUIRE(outside.eval(language.can_connect(port)) == true);  // the check itself works

        bond::Bond contained = make_test_bond(language, {.container = preset.container});
        CHECK(contained.eval(language.can_connect(port)) == false);
        for (const std::string& target :
             std::vector<std::string>{"/usr/bond_container_test", "/etc/bond_container_test",
                                      (host.path / "escape.txt").string()}) {
            CHECK(raises_remote(contained, language.write_file(target)));
            CHECK_FALSE(std::filesystem::exists(target));
        }
        contained.eval_block(language.write_file(private_file));
        CHECK(contained.eval(language.read_file(private_file)) == "written");
        CHECK_FALSE(std::filesystem::exists(private_file));
        // Its own pid namespace: the interpreter's pid inside is none of the host's pids of the
        // container's processes, and the host's processes, this one included, are not there.
        std::string mark = unique_mark();
        bond::Bond marked_bond = make_test_bond(language, marked(preset, mark));
        std::vector<int> host_pids = marked_processes(mark);
        REQUIRE_FALSE(host_pids.empty());
        int pid_inside = marked_bond.eval(language.pid).get<int>();
        CHECK(std::find(host_pids.begin(), host_pids.end(), pid_inside) == host_pids.end());
        std::string host_process = "/proc/" + std::to_string(::getpid()) + "/cmdline";
        REQUIRE(outside.eval(language.read_file(host_process)).is_string());
        CHECK(raises_remote(marked_bond,
                            language.set_global + "\n" + language.read_file(host_process) + ";"));
    });
}

TEST_CASE("containers: directories bound in writable, cwd and env apply inside") {
    for_each_preset([](const Preset& preset, const Language& language) {
        HostDirectory shared("shared");
        bond::Container container = preset.container;
        if (auto* lxc = std::get_if<bond::Lxc>(&container)) lxc->writable = {shared.path};
        if (auto* nspawn = std::get_if<bond::Nspawn>(&container)) nspawn->writable = {shared.path};
        bond::Bond contained = make_test_bond(
            language, {.cwd = shared.path,
                       .env = std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"},
                                                                 {"BOND_GREETING", "hello"}},
                       .container = container});
        contained.eval_block(language.write_file((shared.path / "output.txt").string()));
        std::string written;
        std::ifstream(shared.path / "output.txt") >> written;
        CHECK(written == "written");
        CHECK(contained.eval(language.cwd) == shared.path.string());
        CHECK(contained.eval(language.env_variable("BOND_GREETING")) == "hello");
    });
}

TEST_CASE("containers: exports, output, limits and interrupt work inside") {
    for_each_preset([](const Preset& preset, const Language& language) {
        OutputLog output;
        bond::Bond contained = make_test_bond(
            language,
            {.on_output = output.sink(), .limits = {.wall = 300ms}, .container = preset.container});
        contained.export_function("price", [] { return 42; });
        contained.eval_block(language.define_add);
        CHECK(contained.eval(language.call_export("price")) == 42);
        contained.eval_block(language.print_line("from the container"));
        contained.eval_block(language.print_error("and its stderr"));
        CHECK(output.text(bond::Channel::Stdout) == "from the container\n");
        CHECK(output.text(bond::Channel::Stderr) == "and its stderr\n");
        CHECK_THROWS_AS(contained.eval_block(language.infinite_loop), bond::LimitExceeded);
        CHECK(contained.call("add", 40, 2) == 42);
        // interrupt() reaches the code inside.
        CHECK_THROWS_AS(interrupt_once_started(contained,
                                               [&] {
                                                   contained.with_limits({}).eval_block(
                                                       language.call_export("started") + "\n" +
                                                       language.infinite_loop);
                                               }),
                        bond::Interrupted);
        CHECK(contained.call("add", 1, 2) == 3);
    });
}

TEST_CASE("containers: closing and a timeout leave no container and no process behind") {
    for_each_preset([](const Preset& preset, const Language& language) {
        for (bool timeout : {false, true}) {
            INFO((timeout ? "after a timeout" : "after close()"));
            std::string mark = unique_mark();
            bond::Options options = marked(preset, mark);
            options.timeout = 1s;
            bond::Bond contained = make_test_bond(language, options);
            std::vector<int> inside = marked_processes(mark);
            REQUIRE_FALSE(inside.empty());
            std::string lxc_name = lxc_name_of(inside.front());
            CHECK(lxc_name.empty() == std::holds_alternative<bond::Nspawn>(preset.container));
            if (!lxc_name.empty()) CHECK_FALSE(lxc_cgroups(lxc_name).empty());
            if (timeout)
                CHECK_THROWS_AS(contained.eval_block(language.sleep_forever),
                                bond::TimeoutException);
            else
                contained.close();
            // The bond waited for the container tool, which waits for its container.
            CHECK(marked_processes(mark).empty());
            if (!lxc_name.empty()) CHECK(lxc_cgroups(lxc_name).empty());
        }
    });
}

TEST_CASE("containers: the host's death by SIGKILL leaves no container and no process behind") {
    for_each_preset([](const Preset& preset, const Language& language) {
        std::string mark = unique_mark();
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid_t host = ::fork();
        REQUIRE(host >= 0);
        if (host == 0) {  // the host to be killed: starts a bond, says so, runs code without end
            ::close(ready[0]);
            try {
                bond::Bond contained = make_test_bond(language, marked(preset, mark));
                [[maybe_unused]] auto written = ::write(ready[1], "r", 1);
                contained.eval_block(language.sleep_forever);
            } catch (...) {
            }
            ::_exit(1);
        }
        ::close(ready[1]);
        char byte = 0;
        bool started = ::read(ready[0], &byte, 1) == 1;
        ::close(ready[0]);
        std::vector<int> inside = marked_processes(mark);
        std::vector<int> tools = children_of(host);  // the container tool, the killed host's child
        ::kill(host, SIGKILL);
        ::waitpid(host, nullptr, 0);
        REQUIRE(started);
        REQUIRE_FALSE(inside.empty());
        REQUIRE(tools.size() == 1);
        std::string lxc_name = lxc_name_of(inside.front());
        // The tool got SIGTERM as its parent died, and ends once its container has.
        CHECK(wait_for_end(tools.front(), 60s));
        CHECK(marked_processes(mark).empty());
        if (!lxc_name.empty()) CHECK(lxc_cgroups(lxc_name).empty());
    });
}

TEST_CASE("containers: bonds started at once get containers of their own") {
    for_each_preset([](const Preset& preset, const Language& language) {
        // Each thread keeps its bond: a container tool is stopped when the thread that started
        // it ends (its parent-death signal).
        constexpr std::size_t kBonds = 4;
        std::barrier all_started(kBonds), all_written(kBonds);
        std::vector<std::string> failures(kBonds);
        std::vector<int> saw_own_file(kBonds, -1);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < kBonds; ++i)
            threads.emplace_back([&, i] {
                std::optional<bond::Bond> contained;
                try {
                    contained.emplace(make_test_bond(language, {.container = preset.container}));
                } catch (const std::exception& error) {
                    failures[i] = error.what();
                }
                all_started.arrive_and_wait();  // all alive at once
                if (contained && i % 2 == 0)
                    contained->eval_block(language.write_file("/tmp/mine"));
                all_written.arrive_and_wait();
                if (contained)
                    saw_own_file[i] =
                        !raises_remote(*contained, language.set_global + "\n" +
                                                       language.read_file("/tmp/mine") + ";");
            });
        for (auto& thread : threads) thread.join();
        for (std::size_t i = 0; i < kBonds; ++i) {
            INFO("bond ", i, ": ", failures[i]);
            CHECK(failures[i].empty());
            CHECK(saw_own_file[i] == (i % 2 == 0 ? 1 : 0));
        }
    });
}

TEST_CASE("containers: a missing tool names its package, a failed start shows the tool's words") {
    for (const auto& preset : presets()) {
        INFO("container: ", preset.name);
        std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
        ::setenv("PATH", "/nonexistent", 1);
        std::string message;
        try {
            make_test_bond(languages().front(), {.container = preset.container});
        } catch (const bond::BondException& error) {
            message = error.what();
        }
        ::setenv("PATH", path.c_str(), 1);
        CHECK(message.find(std::holds_alternative<bond::Lxc>(preset.container)
                               ? "(Debian: lxc)"
                               : "(Debian: systemd-container)") != std::string::npos);
        if (!installed(preset.tool)) continue;

        bond::Container broken = preset.container;
        if (auto* lxc = std::get_if<bond::Lxc>(&broken)) lxc->root = "/nonexistent-root";
        if (auto* nspawn = std::get_if<bond::Nspawn>(&broken)) nspawn->root = "/nonexistent-root";
        message.clear();
        try {
            make_test_bond(languages().front(), {.container = broken});
        } catch (const bond::BondException& error) {
            message = error.what();
        }
        INFO(message);
        CHECK(message.find("/nonexistent-root") != std::string::npos);
    }
}
