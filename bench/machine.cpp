#include "machine.hpp"

#include <sys/utsname.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace bench {
namespace {

// The value of the first "key : value" line of a /proc file whose key is `key`.
std::string proc_field(const char* file, const std::string& key) {
    std::ifstream input(file);
    std::string line;
    while (std::getline(input, line)) {
        if (!line.starts_with(key)) continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        return value;
    }
    return "unknown";
}

// How an idle CPU waits decides what waking it costs, which a round trip between two processes
// on two CPUs pays twice.
std::string first_line(const char* file) {
    std::ifstream input(file);
    std::string line;
    return std::getline(input, line) ? line : "unknown";
}

}  // namespace

bond::Value describe_machine() {
    utsname name{};
    uname(&name);
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return {{"cpu", proc_field("/proc/cpuinfo", "model name")},
            {"cores", std::thread::hardware_concurrency()},
            {"memory", proc_field("/proc/meminfo", "MemTotal")},
            {"kernel", std::string(name.sysname) + " " + name.release + " " + name.machine},
            {"cpu_idle_driver", first_line("/sys/devices/system/cpu/cpuidle/current_driver")},
            {"compiler", __VERSION__},
#ifdef NDEBUG
            {"assertions", false},
#else
            {"assertions", true},
#endif
            {"build_type", BOND_BENCH_BUILD_TYPE},
            {"date", date}};
}

bond::Value load_average() {
    double loads[3] = {0, 0, 0};
    if (getloadavg(loads, 3) != 3) return nullptr;
    return {loads[0], loads[1], loads[2]};
}

}  // namespace bench
