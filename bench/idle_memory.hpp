// The memory of idle bonds: bonds of a language held by bondd, each having answered one call,
// against as many of its bare interpreter waiting on its stdin. Proportional set sizes (PSS), so
// that the pages several processes share are counted once among them, on both sides alike.
#pragma once

#include "languages.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct IdleMemory {
    std::vector<double> bond_mib;       // each bond's interpreter (and its children), MiB
    std::vector<double> bare_mib;       // each bare interpreter, MiB
    double bondd_kib_per_bond = 0;      // bondd's own growth over holding them, per bond
    double bondd_threads_per_bond = 0;  // its threads likewise
};

IdleMemory measure_idle_memory(const Language& language, const std::string& bondd,
                               const std::map<std::string, std::string>& environment,
                               std::size_t count);

}  // namespace bench
