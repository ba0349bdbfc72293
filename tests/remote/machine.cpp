#include "machine.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace remote {
namespace {

// Reports a tool that is not there: a skip with its reason, or under CI a failure.
bool unavailable(const std::string& reason) {
    const char* ci = std::getenv("CI");
    if (ci && *ci) {
        FAIL_CHECK("CI must run this test, but " << reason << " (scripts/setup installs it)");
    } else {
        std::cout << "BOND-SKIP: " << reason << std::endl;
        MESSAGE("skipped: " << reason);
    }
    return false;
}

bool command_succeeds(const std::string& command) {
    return std::system((command + " > /dev/null 2>&1").c_str()) == 0;
}

// Checked once per process: each check starts programs.
bool checked(const std::string& name, bool (*check)(std::string& reason)) {
    static std::map<std::string, std::pair<bool, std::string>> results;
    auto found = results.find(name);
    if (found == results.end()) {
        std::string reason;
        bool ok = check(reason);
        found = results.emplace(name, std::make_pair(ok, reason)).first;
    }
    return found->second.first || unavailable(found->second.second);
}

std::string fixture_directory() {
    const char* directory = std::getenv("BOND_TEST_SSH_DIR");
    return directory ? directory : "";
}

}  // namespace

std::string ssh_to(const std::string& host) {
    return "ssh -F " + fixture_directory() + "/ssh_config " + host;
}

bool ssh_ready() {
    return checked("ssh", [](std::string& reason) {
        std::string directory = fixture_directory();
        if (directory.empty()) {
            reason =
                "BOND_TEST_SSH_DIR is not set: run the ssh tests through ctest, which "
                "starts their sshd (tests/remote/sshd_fixture.sh)";
            return false;
        }
        if (!std::filesystem::exists(directory + "/ssh_config")) {
            reason = "the sshd fixture did not start: sshd or ssh is not installed";
            return false;
        }
        if (!command_succeeds(ssh_to("bond-a") + " true")) {
            reason = "ssh to the fixture's sshd fails (see " + directory + "/sshd.log)";
            return false;
        }
        return true;
    });
}

bool sudo_ready() {
    return checked("sudo", [](std::string& reason) {
        if (!command_succeeds("command -v sudo")) {
            reason = "sudo is not installed";
            return false;
        }
        if (!command_succeeds("sudo -n -u nobody true")) {
            reason = "sudo -n -u nobody is not allowed for this user without a password";
            return false;
        }
        return true;
    });
}

bool bwrap_ready() {
    return checked("bwrap", [](std::string& reason) {
        if (!command_succeeds("command -v bwrap")) {
            reason = "bubblewrap (bwrap) is not installed";
            return false;
        }
        if (!command_succeeds("bwrap --ro-bind / / --unshare-net true")) {
            reason = "bwrap cannot create its namespaces here (user namespaces disabled?)";
            return false;
        }
        return true;
    });
}

bond::Bond make_bond_through(const std::string& prefix, const conformance::Language& language,
                             bond::Options options) {
    options.command = prefix + " " + language.interpreter;
    return conformance::make_test_bond(language, std::move(options));
}

ScratchDirectory::ScratchDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bond-remote-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

ScratchDirectory::~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace remote
