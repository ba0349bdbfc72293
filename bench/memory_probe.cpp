#include "memory_probe.hpp"

#include "payload.hpp"
#include "subprocess.hpp"

#include <bond/bond.hpp>

#include <fstream>
#include <iostream>
#include <stdexcept>

namespace bench {
namespace {

// A field of /proc/self/status in bytes (VmRSS, VmHWM).
std::size_t status_bytes(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with(field + ":")) return std::stoull(line.substr(field.size() + 1)) * 1024;
    throw std::runtime_error("no " + field + " in /proc/self/status");
}

// Linux 4.0+: writing 5 sets the peak (VmHWM) to the current resident set.
bool reset_peak() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5" << std::flush;
    return static_cast<bool>(clear_refs);
}

}  // namespace

int memory_probe_main(const Language& language, std::size_t payload_bytes, int calls) {
    bond::Options options;
    if (!language.environment.empty()) options.env = environment_with(language.environment);
    bond::Bond bond = bond::make_bond(language.bond_name, options);
    bond.eval_block(language.define_ident);
    bond.call("ident", 1);
    bond::Value growth = bond::Value::array();
    bool reset = true;
    {
        std::string payload = make_payload(payload_bytes);
        for (int call = 0; call < calls; ++call) {
            reset = reset_peak() && reset;
            std::size_t before = status_bytes("VmRSS");
            // Without a reset the peak so far is this process's largest moment: the first call's.
            if (!reset && call > 0) break;
            bond::Value result = bond.call("ident", payload);
            if (result != payload) throw std::runtime_error("ident returned something else");
            growth.push_back(status_bytes("VmHWM") - before);
        }
    }
    std::cout << bond::Value{{"growth_bytes", growth}, {"peak_reset", reset}}.dump() << std::endl;
    return 0;
}

bond::Value probe_memory(const std::string& self, const Language& language,
                         std::size_t payload_bytes, int calls,
                         const std::map<std::string, std::string>& environment) {
    std::string output =
        output_of({self, "--memory-probe", language.key, "--payload-bytes",
                   std::to_string(payload_bytes), "--calls", std::to_string(calls)},
                  environment.empty() ? environment : environment_with(environment));
    bond::Value result = bond::Value::parse(output, nullptr, false);
    if (!result.is_object() || !result.contains("growth_bytes"))
        throw std::runtime_error("the memory probe failed (run " + self + " --memory-probe " +
                                 language.key + " to see why)");
    return result;
}

}  // namespace bench
