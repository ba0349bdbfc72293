#include "container.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>

namespace bond::detail {
namespace {

// Also where no variables are given: a container starts with an empty environment.
const std::map<std::string, std::string> kDefaultEnvironment = {
    {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"HOME", "/tmp"}};

std::filesystem::path default_lxcpath() {
    std::error_code error;
    return std::filesystem::temp_directory_path(error) / "bond-lxc";
}

std::filesystem::path lxcpath_of(const Lxc& lxc) {
    return lxc.lxcpath.empty() ? default_lxcpath() : lxc.lxcpath;
}

// A path of the host as LXC's mount entries name it: relative to the container's root.
std::string inside_root(const std::filesystem::path& path) {
    return path.relative_path().string();
}

std::vector<std::string> lxc_command(const Lxc& lxc, const std::string& name,
                                     const std::optional<std::filesystem::path>& cwd,
                                     const std::map<std::string, std::string>& env) {
    std::filesystem::path lxcpath = lxcpath_of(lxc);
    std::error_code error;
    std::filesystem::create_directories(lxcpath, error);  // lxc-execute says so if this failed
    // Each setting avoids a failure of lxc-execute without a configured container: no console
    // or terminals (there is none), a configuration file (else it warns it may crash the host),
    // no AppArmor profile (none is loaded for it), a network of none or the host's (no bridge
    // for a veth), its own /proc, a writable /tmp (JavaScript's driver needs one).
    std::vector<std::string> words = {"lxc-execute",    "-n", name,       "-P",
                                      lxcpath.string(), "-f", "/dev/null"};
    auto set = [&](const std::string& setting) { words.insert(words.end(), {"-s", setting}); };
    // "empty" is a network namespace with only a loopback device, which "up" brings up: code
    // that talks to itself over 127.0.0.1 works, nothing else is reachable.
    set(lxc.host_network ? "lxc.net.0.type=none" : "lxc.net.0.type=empty");
    if (!lxc.host_network) set("lxc.net.0.flags=up");
    set("lxc.console.path=none");
    set("lxc.tty.max=0");
    set("lxc.pty.max=0");
    set("lxc.apparmor.profile=unconfined");
    set("lxc.rootfs.path=dir:" + lxc.root.string());
    set("lxc.rootfs.options=ro");
    set("lxc.mount.auto=proc:mixed");
    set("lxc.mount.entry=tmpfs tmp tmpfs rw,nosuid,nodev 0 0");
    // create=dir: a directory under /tmp has no mount point on the fresh tmpfs mounted there.
    for (const auto& path : lxc.writable)
        set("lxc.mount.entry=" + path.string() + " " + inside_root(path) +
            " none bind,rw,create=dir 0 0");
    if (lxc.id_map) {
        std::string range =
            std::to_string(lxc.id_map->first) + " " + std::to_string(lxc.id_map->count);
        set("lxc.idmap=u 0 " + range);
        set("lxc.idmap=g 0 " + range);
    }
    for (const auto& [key, value] : env) set("lxc.environment=" + key + "=" + value);
    if (cwd) set("lxc.init.cwd=" + cwd->string());
    if (lxc.uid) words.insert(words.end(), {"-u", std::to_string(*lxc.uid)});
    if (lxc.gid) words.insert(words.end(), {"-g", std::to_string(*lxc.gid)});
    words.push_back("--");
    return words;
}

std::vector<std::string> nspawn_command(const Nspawn& nspawn, const std::string& name,
                                        const std::optional<std::filesystem::path>& cwd,
                                        const std::map<std::string, std::string>& env) {
    // --volatile=yes: an empty tmpfs as the root with the tree's /usr read-only in it (nspawn
    // refuses the host's / otherwise); /etc is added for what the interpreters read there
    // (/etc/alternatives/php, passwd). --as-pid2: the interpreter is not pid 1, which the
    // kernel would shield from the signals that stop it. No registration, no unit of its own:
    // nothing is left with systemd when it ends.
    std::vector<std::string> words = {"systemd-nspawn",
                                      "--quiet",
                                      "--register=no",
                                      "--keep-unit",
                                      "--pipe",
                                      "--as-pid2",
                                      "--link-journal=no",
                                      "--volatile=yes",
                                      "-D",
                                      nspawn.root.string(),
                                      "-M",
                                      name,
                                      "--bind-ro=/etc"};
    if (!nspawn.host_network) words.push_back("--private-network");
    for (const auto& path : nspawn.read_only) words.push_back("--bind-ro=" + path.string());
    for (const auto& path : nspawn.writable) words.push_back("--bind=" + path.string());
    if (!nspawn.user.empty()) words.push_back("--user=" + nspawn.user);
    if (cwd) words.push_back("--chdir=" + cwd->string());
    for (const auto& [key, value] : env) words.push_back("--setenv=" + key + "=" + value);
    words.push_back("--");
    return words;
}

// Removes a cgroup directory and the ones below it (their files go with them).
void remove_cgroup(const std::filesystem::path& directory) {
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error)) return;
    std::vector<std::filesystem::path> directories{directory};
    for (std::filesystem::recursive_directory_iterator it(directory, error), end;
         !error && it != end; it.increment(error))
        if (it->is_directory(error)) directories.push_back(it->path());
    for (auto it = directories.rbegin(); it != directories.rend(); ++it) ::rmdir(it->c_str());
}

}  // namespace

std::string unique_container_name() {
    static std::atomic<std::uint64_t> next{1};
    // The pid keeps apart the processes of one machine, the counter the bonds of one process,
    // and the random part processes with equal pids in different pid namespaces.
    static const std::uint32_t salt = std::random_device{}();
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", salt);
    return "bond-" + std::to_string(::getpid()) + "-" + std::to_string(next++) + "-" + suffix;
}

std::vector<std::string> container_command(
    const Container& container, const std::string& name,
    const std::optional<std::filesystem::path>& cwd,
    const std::optional<std::map<std::string, std::string>>& env) {
    const auto& variables = env ? *env : kDefaultEnvironment;
    if (const auto* lxc = std::get_if<Lxc>(&container))
        return lxc_command(*lxc, name, cwd, variables);
    return nspawn_command(std::get<Nspawn>(container), name, cwd, variables);
}

std::string container_tool(const Container& container) {
    return std::holds_alternative<Lxc>(container)
               ? "Options::container = bond::Lxc needs lxc-execute (Debian: lxc)"
               : "Options::container = bond::Nspawn needs systemd-nspawn (Debian: "
                 "systemd-container)";
}

void remove_container_leftovers(const Container& container, const std::string& name) {
    const auto* lxc = std::get_if<Lxc>(&container);
    if (!lxc) return;  // systemd-nspawn, stopped by SIGTERM or dying with its parent, leaves none
    try {
        std::error_code error;
        std::filesystem::remove_all(lxcpath_of(*lxc) / name, error);
        // LXC makes its cgroups below the cgroup of the process that starts it, in every
        // hierarchy (cgroup v1: one per controller; v2: one).
        std::vector<std::filesystem::path> hierarchies{"/sys/fs/cgroup"};
        for (std::filesystem::directory_iterator it("/sys/fs/cgroup", error), end;
             !error && it != end; it.increment(error))
            if (it->is_directory(error)) hierarchies.push_back(it->path());
        std::ifstream own("/proc/self/cgroup");
        std::vector<std::string> parents;
        for (std::string line; std::getline(own, line);)
            if (auto colon = line.find(':', line.find(':') + 1); colon != std::string::npos)
                parents.push_back(line.substr(colon + 1));
        for (const auto& hierarchy : hierarchies)
            for (const auto& parent : parents)
                for (const char* kind : {"lxc.payload.", "lxc.monitor."})
                    remove_cgroup(hierarchy / std::filesystem::path(parent).relative_path() /
                                  (kind + name));
    } catch (...) {  // a leftover that cannot be removed must not fail the bond's close
    }
}

}  // namespace bond::detail
