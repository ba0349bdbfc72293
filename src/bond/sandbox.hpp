// Options::sandbox: the bubblewrap (bwrap) command line that runs an interpreter locked down.
#pragma once

#include <bond/options.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bond::detail {

// The words to put before the interpreter's command. Inside: no network (and no other namespace
// of the host: pid, ipc, uts), /usr and /etc read-only with the usual links to them (/bin, /lib,
// ...), a fresh /proc and minimal /dev, a private empty /tmp (also HOME and TMPDIR), the paths
// `sandbox` names, no new privileges, its own session (no terminal injection), and death with the
// host. The working directory is `cwd`, which must be visible inside, or /tmp.
std::vector<std::string> sandbox_command(const Sandbox& sandbox,
                                         const std::optional<std::filesystem::path>& cwd);

}  // namespace bond::detail
