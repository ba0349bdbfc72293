// Options::container: the lxc-execute or systemd-nspawn command line that runs an interpreter in
// a container of its own, and the removal of what the tool leaves behind on the host.
#pragma once

#include <bond/options.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bond::detail {

// A name for one container that no other bond, of this process or another, uses at the same time.
std::string unique_container_name();

// The words to put before the interpreter's command. `cwd` and `env` are the interpreter's, inside
// the container (unset env: PATH and HOME=/tmp only); the tool itself runs with the host's.
std::vector<std::string> container_command(
    const Container& container, const std::string& name,
    const std::optional<std::filesystem::path>& cwd,
    const std::optional<std::map<std::string, std::string>>& env);

// "lxc-execute (Debian package lxc)": for the error when the tool is not installed.
std::string container_tool(const Container& container);

// After the tool has ended: removes what it leaves when it is killed rather than asked to stop
// (LXC's cgroups lxc.payload.NAME and lxc.monitor.NAME, and its lxcpath entry). Never throws.
void remove_container_leftovers(const Container& container, const std::string& name);

}  // namespace bond::detail
