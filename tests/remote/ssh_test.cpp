// Bonds over ssh, against the sshd that ctest starts on 127.0.0.1 (sshd_fixture.sh): the
// command forms of the issue (a host alias, -p PORT -i KEY, two hops), quoting, cwd and env on
// the far side, and a connection that drops in the middle of a call.
#include "../support/processes.hpp"
#include "machine.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using bond::Value;
using conformance::for_each_language;
using conformance::Language;
using conformance::OutputLog;
using namespace remote;
using namespace std::chrono_literals;

namespace {

std::string fixture_file(const std::string& name) {
    std::ifstream file(std::string(std::getenv("BOND_TEST_SSH_DIR")) + "/" + name);
    std::string text;
    std::getline(file, text);
    return text;
}

bool descends_from(int pid, int ancestor) {
    for (int current = pid; current > 1; current = parent_of(current))
        if (current == ancestor) return true;
    return false;
}

// What every bond does, checked on one: definitions and calls, an export called from the remote
// code (nested), a remote error, output, bytes and text both ways.
void check_everyday_work(bond::Bond& remote, const Language& language, OutputLog& output) {
    remote.eval_block(language.define_add);
    remote.eval_block(language.define_ident);
    remote.eval_block(language.define_fails);
    CHECK(remote.call("add", 40, 2) == 42);
    remote.export_function("answer", [] { return 42; });
    CHECK(remote.eval(language.call_export("answer")) == 42);
    CHECK_THROWS_WITH_AS(remote.call("fails"), doctest::Contains("boom"), bond::RemoteException);
    Value bytes = Value::binary({0, 255, 65});
    CHECK(remote.call("ident", bytes) == bytes);
    CHECK(remote.call("ident", "héllo wörld ✓") == "héllo wörld ✓");
    remote.eval_block(language.print_line("printed far away"));
    CHECK(output.text(bond::Channel::Stdout).find("printed far away\n") != std::string::npos);
    CHECK(remote.alive());
}

}  // namespace

TEST_CASE("ssh: a bond through a host alias does everything a local bond does, on the far side") {
    if (!ssh_ready()) return;
    int sshd = std::stoi(fixture_file("sshd.pid"));
    for_each_language([&](const Language& language) {
        OutputLog output;
        bond::Bond remote =
            make_bond_through(ssh_to("bond-a"), language, {.on_output = output.sink()});
        check_everyday_work(remote, language, output);
        // The interpreter is a process of the fixture's sshd, not of this host; the bond's own
        // child is the ssh client.
        int interpreter = remote.eval(language.pid).get<int>();
        CHECK(interpreter != remote.pid());
        CHECK(descends_from(interpreter, sshd));
        CHECK_FALSE(descends_from(interpreter, ::getpid()));
        CHECK(remote.eval(language.env_variable("SSH_CONNECTION")).is_string());
    });
}

TEST_CASE("ssh: the -p PORT -i KEY form of the command works as well") {
    if (!ssh_ready()) return;
    std::string directory = std::getenv("BOND_TEST_SSH_DIR");
    std::string prefix = "ssh -F /dev/null -p " + fixture_file("port") + " -i " + directory +
                         "/client_key -o UserKnownHostsFile=" + directory +
                         "/known_hosts -o BatchMode=yes -o IdentitiesOnly=yes " +
                         fixture_file("user") + "@127.0.0.1";
    for_each_language([&](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_bond_through(prefix, language, {.on_output = output.sink()});
        check_everyday_work(remote, language, output);
    });
}

TEST_CASE("ssh: two hops (ssh A ssh B interpreter) work like one") {
    if (!ssh_ready()) return;
    int sshd = std::stoi(fixture_file("sshd.pid"));
    for_each_language([&](const Language& language) {
        OutputLog output;
        bond::Bond remote = make_bond_through(ssh_to("bond-a") + " " + ssh_to("bond-b"), language,
                                              {.on_output = output.sink()});
        check_everyday_work(remote, language, output);
        // The second ssh client runs on the first host: under the fixture's sshd.
        int second_hop = 0;
        for (int pid : running_processes()) {
            std::string command = command_line_of(pid);
            if (command.starts_with(std::string("ssh") + '\0') &&
                command.find(std::string("bond-b") + '\0' + language.interpreter) !=
                    std::string::npos)
                second_hop = pid;
        }
        CHECK(second_hop != 0);
        CHECK(descends_from(second_hop, sshd));
        CHECK(descends_from(remote.eval(language.pid).get<int>(), sshd));
    });
}

TEST_CASE(
    "ssh: code with quotes, $, backslashes, newlines and non-ASCII text runs as it does locally") {
    if (!ssh_ready()) return;
    const std::string tricky =
        "it's \"quoted\" and 'single' $HOME ${PATH} `id` $(id) \\ \\\\ \\n %s %d ; && | > * ~ !\n"
        "a second line\twith a tab, héllo wörld ✓ 日本語 \x01 end";
    for_each_language([&](const Language& language) {
        OutputLog local_output, remote_output;
        bond::Bond local =
            conformance::make_test_bond(language, {.on_output = local_output.sink()});
        bond::Bond remote = make_bond_through(ssh_to("bond-a") + " " + ssh_to("bond-b"), language,
                                              {.on_output = remote_output.sink()});
        for (bond::Bond* bond : {&local, &remote}) {
            CHECK(bond->eval(language.string_literal(tricky)) == tricky);
            bond->eval_block(language.print_line(tricky));
            bond->eval_block(language.define_ident);
            CHECK(bond->call("ident", tricky) == tricky);
        }
        CHECK(remote_output.all() == local_output.all());
        CHECK(remote_output.all() == tricky + "\n");
    });
}

TEST_CASE("ssh: the far side's working directory and environment are set in the command") {
    if (!ssh_ready()) return;
    ScratchDirectory directory;
    for_each_language([&](const Language& language) {
        // Options::env and cwd belong to the local ssh client; the far side gets what its
        // shell runs: cd and env in front of the interpreter.
        bond::Bond remote = make_bond_through(
            ssh_to("bond-a") + " 'cd " + directory.path() + " && exec env BOND_FAR=\"far value\"'",
            language,
            {.env = std::map<std::string, std::string>{{"PATH", std::getenv("PATH")},
                                                       {"BOND_NEAR", "near"}}});
        CHECK(remote.eval(language.cwd) == directory.path());
        CHECK(remote.eval(language.env_variable("BOND_FAR")) == "far value");
        CHECK(remote.eval(language.env_variable("BOND_NEAR")) == nullptr);
    });
}

TEST_CASE(
    "ssh: a connection that drops while the far side waits for the host is a prompt "
    "TerminatedException") {
    if (!ssh_ready()) return;
    for_each_language([&](const Language& language) {
        {
            bond::Bond remote = make_bond_through(ssh_to("bond-a"), language);
            int ssh = remote.pid();
            remote.export_function("drop_connection", [ssh] {
                ::kill(ssh, SIGKILL);
                return 0;
            });
            auto start = std::chrono::steady_clock::now();
            CHECK_THROWS_WITH_AS(remote.eval(language.call_export("drop_connection")),
                                 doctest::Contains("killed by signal 9"),
                                 bond::TerminatedException);
            // A guard far below the bond's timeout (120 s): the end of the connection was
            // noticed, not waited out.
            CHECK(std::chrono::steady_clock::now() - start < 60s);
            CHECK_FALSE(remote.alive());
            CHECK_THROWS_AS(remote.eval("1"), bond::TerminatedException);
        }
    });
}

TEST_CASE(
    "ssh: a connection that drops while the far side's code runs is a prompt TerminatedException") {
    if (!ssh_ready()) return;
    for_each_language([&](const Language& language) {
        {
            // The far side's code reads a FIFO. Opening its other end returns once that code
            // runs, which is when another thread kills the ssh client; closing the FIFO then
            // lets the far side's interpreter finish and see its connection gone.
            ScratchDirectory directory;
            std::string fifo = directory.path() + "/block";
            REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
            bond::Bond remote = make_bond_through(ssh_to("bond-a"), language);
            remote.eval_block(language.define_files);
            int ssh = remote.pid();
            std::thread dropper([&] {
                int writer = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
                ::kill(ssh, SIGKILL);
                if (writer >= 0) ::close(writer);
            });
            auto start = std::chrono::steady_clock::now();
            CHECK_THROWS_AS(remote.call("read_file", fifo), bond::TerminatedException);
            // Had the read never begun, this releases the thread's open.
            int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            dropper.join();
            if (reader >= 0) ::close(reader);
            CHECK(std::chrono::steady_clock::now() - start < 60s);
            CHECK_FALSE(remote.alive());
        }
    });
}

TEST_CASE("ssh: after a timeout the far side's interpreter ends, even in the middle of a loop") {
    if (!ssh_ready()) return;
    for_each_language([&](const Language& language) {
        bond::Bond remote = make_bond_through(ssh_to("bond-a"), language, {.timeout = 1s});
        int interpreter = remote.eval(language.pid).get<int>();
        int exit_watch = static_cast<int>(::syscall(SYS_pidfd_open, interpreter, 0));
        REQUIRE(exit_watch >= 0);
        CHECK_THROWS_AS(remote.eval_block(language.infinite_loop), bond::TimeoutException);
        // The host can stop only ssh; the driver notices that its connection is gone. The
        // pidfd becomes readable when the process has ended; the deadline only guards a hang.
        pollfd watch{.fd = exit_watch, .events = POLLIN, .revents = 0};
        CHECK(::poll(&watch, 1, 60000) == 1);
        ::close(exit_watch);
    });
}
