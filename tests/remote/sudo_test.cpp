// Bonds through `sudo -u nobody`: the co-process runs as nobody, which it checks from inside, and
// still does what a local bond does (the whole conformance suite also runs so: CMakeLists.txt).
#include "machine.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using conformance::for_each_language;
using conformance::Language;
using conformance::OutputLog;
using namespace remote;

namespace {
constexpr int kNobody = 65534;
}

TEST_CASE("sudo -u nobody: the co-process runs as nobody and works as a local one") {
    if (!sudo_ready()) return;
    for_each_language([](const Language& language) {
        OutputLog output;
        bond::Bond remote =
            make_bond_through("sudo -u nobody", language, {.on_output = output.sink()});
        CHECK(remote.eval(language.uid) == kNobody);
        remote.eval_block(language.define_add);
        CHECK(remote.call("add", 40, 2) == 42);
        remote.export_function("answer", [] { return 42; });
        CHECK(remote.eval(language.call_export("answer")) == 42);
        remote.eval_block(language.print_line("as nobody"));
        remote.eval_block(language.run_command("id -u"));
        CHECK(output.text(bond::Channel::Stdout) == "as nobody\n" + std::to_string(kNobody) + "\n");
        CHECK(remote.pid() != remote.eval(language.pid).get<int>());  // sudo is in between
    });
}

TEST_CASE("sudo -u nobody: the co-process has nobody's rights, not the host's") {
    if (!sudo_ready()) return;
    ScratchDirectory host_only;  // mode 0700, the host's
    std::filesystem::path open_to_all = host_only.path() + "-shared";
    std::filesystem::create_directory(open_to_all);
    std::filesystem::permissions(open_to_all, std::filesystem::perms::all);
    std::ofstream(host_only.path() + "/secret") << "the host's secret";
    for_each_language([&](const Language& language) {
        bond::Bond remote = make_bond_through("sudo -u nobody", language);
        remote.eval_block(language.define_files);
        CHECK_THROWS_AS(remote.call("read_file", "/etc/shadow"), bond::RemoteException);
        CHECK_THROWS_AS(remote.call("read_file", host_only.path() + "/secret"),
                        bond::RemoteException);
        CHECK_THROWS_AS(remote.call("write_file", host_only.path() + "/planted", "x"),
                        bond::RemoteException);
        CHECK_FALSE(std::filesystem::exists(host_only.path() + "/planted"));
        std::string allowed = (open_to_all / language.interpreter).string();
        remote.call("write_file", allowed, "written by nobody");
        CHECK(remote.call("read_file", allowed) == "written by nobody");
    });
    std::filesystem::remove_all(open_to_all);
}

TEST_CASE("sudo -u nobody: cwd applies, and the environment is sudo's, set in the command") {
    if (!sudo_ready()) return;
    ScratchDirectory directory;
    std::filesystem::permissions(directory.path(), std::filesystem::perms::all);
    for_each_language([&](const Language& language) {
        // sudo keeps the working directory it is started in; it resets the environment
        // (env_reset), so a variable reaches the interpreter as an argument of sudo.
        bond::Bond remote =
            make_bond_through("sudo -u nobody BOND_FAR=\"far value\"", language,
                              {.cwd = directory.path(),
                               .env = std::map<std::string, std::string>{
                                   {"PATH", std::getenv("PATH")}, {"BOND_NEAR", "near"}}});
        CHECK(remote.eval(language.cwd) == directory.path());
        CHECK(remote.eval(language.env_variable("BOND_FAR")) == "far value");
        CHECK(remote.eval(language.env_variable("BOND_NEAR")) == nullptr);
    });
}
