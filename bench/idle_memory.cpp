#include "idle_memory.hpp"

#include "../tests/support/processes.hpp"
#include "bondd_process.hpp"
#include "daemon_client.hpp"
#include "subprocess.hpp"

#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>

namespace bench {
namespace {

// A field of /proc/PID/smaps_rollup or /proc/PID/status ("Pss:", "Threads:"): its number (kB
// for sizes), 0 when the process has ended.
double proc_field(int pid, const std::string& file, const std::string& field) {
    std::ifstream text("/proc/" + std::to_string(pid) + "/" + file);
    std::string name;
    double value = 0;
    while (text >> name) {
        if (name == field && text >> value) return value;
        text.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

// The PSS of `pid` and of every process under it, KiB.
double tree_pss_kib(int pid) {
    double kib = proc_field(pid, "smaps_rollup", "Pss:");
    for (int child : children_of(pid)) kib += tree_pss_kib(child);
    return kib;
}

}  // namespace

IdleMemory measure_idle_memory(const Language& language, const std::string& bondd,
                               const std::map<std::string, std::string>& environment,
                               std::size_t count) {
    IdleMemory measured;
    {
        // The bare interpreters, each once it has said it waits on its stdin.
        std::vector<std::unique_ptr<Subprocess>> bare;
        for (std::size_t i = 0; i < count; ++i) {
            bare.push_back(
                std::make_unique<Subprocess>(Subprocess::Setup{.argv = language.idle_command,
                                                               .environment = environment,
                                                               .pipe_stdin = true,
                                                               .pipe_stdout = true,
                                                               .discard_stderr = true}));
            if (!language.idle_input.empty())
                write_all(bare.back()->stdin_fd(), language.idle_input);
            LineReader output(bare.back()->stdout_fd());
            std::string line;
            while (!line.ends_with("ready"))  // Node's REPL writes its prompt before it
                if (!output.read_line(line))
                    throw std::runtime_error(language.idle_command[0] + " ended before 'ready'");
        }
        for (const auto& interpreter : bare)
            measured.bare_mib.push_back(tree_pss_kib(interpreter->pid()) / 1024);
    }

    BonddProcess daemon(bondd, environment, {});
    DaemonClient client(daemon.socket_path());
    double pss_before = proc_field(daemon.pid(), "smaps_rollup", "Pss:");
    double threads_before = proc_field(daemon.pid(), "status", "Threads:");
    for (std::size_t i = 0; i < count; ++i) {
        std::string id = client.request("open", {{"lang", language.bond_name}})["bond"];
        client.request("eval_block", {{"bond", id}, {"code", language.define_ident}});
        client.request("call", {{"bond", id}, {"name", "ident"}, {"args", {1}}});
    }
    for (const auto& held : client.request("list", bond::Value::object()))
        measured.bond_mib.push_back(tree_pss_kib(held["pid"].get<int>()) / 1024);
    measured.bondd_kib_per_bond =
        (proc_field(daemon.pid(), "smaps_rollup", "Pss:") - pss_before) / double(count);
    measured.bondd_threads_per_bond =
        (proc_field(daemon.pid(), "status", "Threads:") - threads_before) / double(count);
    return measured;
}

}  // namespace bench
