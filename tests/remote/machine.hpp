// What the remote tests need from the machine: the sshd fixture (tests/remote/sshd_fixture.sh,
// started by ctest), sudo and bubblewrap. scripts/setup installs all of them; where one is
// missing or cannot run, a test says why and is reported as skipped (ctest reads the
// "BOND-SKIP:" line), except under CI, where a missing tool is a failure.
#pragma once

#include "../conformance/languages.hpp"

#include <string>

namespace remote {

// The ssh command prefix reaching `host` (bond-a or bond-b, both the fixture's sshd on
// 127.0.0.1), e.g. "ssh -F /abs/ssh_config bond-a". Call only after ssh_ready().
std::string ssh_to(const std::string& host);

// Each is true when the tool works here; otherwise it reports the skip (or fails under CI).
bool ssh_ready();
bool sudo_ready();   // sudo -u nobody, without a password
bool bwrap_ready();  // bubblewrap with a network namespace of its own

// A bond of `language` started through `prefix` ("sudo -u nobody", an ssh command, ...).
bond::Bond make_bond_through(const std::string& prefix, const conformance::Language& language,
                             bond::Options options = {});

// A directory of its own in the temporary directory, removed with the object.
class ScratchDirectory {
  public:
    ScratchDirectory();
    ~ScratchDirectory();
    ScratchDirectory(const ScratchDirectory&) = delete;
    ScratchDirectory& operator=(const ScratchDirectory&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace remote
