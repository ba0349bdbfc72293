// How a bond is started and where its output goes: a plain aggregate, filled with designated
// initializers, e.g. bond::Options{.command = "ssh host python3", .timeout = 5s}.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bond {

// Which stream of the remote process a piece of output came from.
enum class Channel { Stdout, Stderr };

// Ceilings on one top-level eval, eval_block or call, nested calls in both directions included
// (docs/limits.md). Every field is optional: unset means no ceiling. Exceeding one stops the code
// inside the interpreter and raises LimitExceeded; the bond goes on with its state intact.
struct Limits {
    // Time from sending the operation to its reply, exported C++ functions included.
    std::optional<std::chrono::milliseconds> wall;
    // CPU time (user + system) the interpreter's process spends on the operation.
    std::optional<std::chrono::milliseconds> cpu;
    // Bytes the code may allocate beyond what the interpreter held once its driver had started.
    std::optional<std::size_t> memory;
    // Bytes of stdout + stderr the operation may produce; what comes after is dropped.
    std::optional<std::size_t> output;
    // How long stopped code has to end before the interpreter is killed; unset: 1 s.
    std::optional<std::chrono::milliseconds> grace;
};

// The locked-down mode for untrusted code (docs/limits.md): the command runs inside bubblewrap
// (bwrap) with no network, the system's /usr and /etc read-only, a private writable /tmp, no
// other files of the host, no new privileges, and it dies with the host.
struct Sandbox {
    // Further paths of the host the code may read, under the same names.
    std::vector<std::filesystem::path> read_only;
    // Further paths of the host the code may read and write, under the same names.
    std::vector<std::filesystem::path> writable;
};

// Host ids that the ids 0, 1, ... inside a container stand for (an unprivileged container: its
// root is the host's `first`, a nobody of the host). The host's /etc/subuid and /etc/subgid must
// grant them to the user who starts it ("root:100000:65536").
struct IdMap {
    std::uint32_t first = 100000;
    std::uint32_t count = 65536;
};

// An LXC application container (docs/remote.md, Containers): lxc-execute runs the interpreter
// over `root`, read-only, with its own /proc, /dev and empty /tmp, no network, its own pid, ipc,
// uts and mount namespaces, and a name no other bond uses. Closing the bond, a timeout or the
// host's death end it and remove what LXC leaves behind (its cgroups, its lxcpath entry).
struct Lxc {
    // The root file system: a directory of the host, shown read-only.
    std::filesystem::path root = "/";
    // Host directories shown writable under the same names (they must exist under `root`).
    std::vector<std::filesystem::path> writable;
    // True: the host's network; false: a network namespace with only its own loopback device.
    bool host_network = false;
    // Set: an unprivileged container (a user namespace mapping its ids onto these).
    std::optional<IdMap> id_map;
    // The user and group the interpreter runs as, inside (65534: nobody); unset: root.
    std::optional<std::uint32_t> uid, gid;
    // Where LXC keeps its per-container state; empty: a directory bond-lxc in the host's temp
    // directory.
    std::filesystem::path lxcpath;
};

// A systemd-nspawn container: the host's /usr (or `root`'s), /etc and the listed directories
// read-only over an empty, private, writable root, its own /proc, /dev, pid, ipc and uts
// namespaces, no network, not registered with systemd-machined.
struct Nspawn {
    // The tree whose /usr the container sees (systemd-nspawn --volatile=yes -D root).
    std::filesystem::path root = "/";
    // Host directories shown read-only, under the same names (/etc always is).
    std::vector<std::filesystem::path> read_only;
    // Host directories shown writable, under the same names.
    std::vector<std::filesystem::path> writable;
    // True: the host's network; false: a private one with only a loopback device.
    bool host_network = false;
    // The user the interpreter runs as, by name (looked up in the container's /etc); empty: root.
    std::string user;
};

// Options::container: which container tool runs the interpreter.
using Container = std::variant<Lxc, Nspawn>;

struct Options {
    // Empty: the driver's default interpreter (python3, ...). Otherwise words split as a POSIX
    // shell splits them ('...', "...", backslash) but run without a shell.
    std::string command;
    // Appended after the command and the driver's default arguments.
    std::vector<std::string> args;
    std::optional<std::filesystem::path> cwd;
    // The co-process's whole environment; unset: inherit the host's.
    std::optional<std::map<std::string, std::string>> env;
    // False drops the driver's default interpreter arguments (Python: -u -S -i -q).
    bool def_args = true;
    // Forward exceptions as serialized objects in RemoteException::data(); default false.
    std::optional<bool> trans_except;
    // The longest the host waits for any one reply of the co-process.
    std::chrono::milliseconds timeout{60000};
    // The longest the host waits for the interpreter to start and its driver to answer (an ssh
    // connection, a loaded machine): apart from `timeout`, so that calls can be held to less.
    std::chrono::milliseconds start_timeout{60000};
    // Remote stdout/stderr as it arrives; default: the host's std::cout / std::cerr.
    std::function<void(Channel, std::string_view)> on_output;
    // When set, every protocol line both ways is copied here, prefixed "-> " (sent) or "<- ".
    std::ostream* logfile = nullptr;
    // How deeply calls may nest (host -> remote -> host ...); a deeper call is a BondException,
    // which stops a runaway recursion across the bond before it exhausts the host's stack.
    std::size_t max_depth = 1000;
    // The longest protocol message accepted from the co-process; a longer one closes the bond.
    // At most 4 GiB - 1 is read (the JSON reader counts in 32 bits), whatever this says.
    std::size_t max_message_size = std::size_t{256} << 20;
    // Limits for every top-level operation; Bond::with_limits sets them for one operation.
    Limits limits;
    // Set: the interpreter runs in the sandbox (needs bwrap on the host).
    std::optional<Sandbox> sandbox;
    // Set: the interpreter runs in a container (needs lxc or systemd-container on the host).
    // `cwd` and `env` then apply inside it; unset `env` gives it only PATH and HOME=/tmp.
    std::optional<Container> container;
};

}  // namespace bond
