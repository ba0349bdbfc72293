// The machine a run measured: what a figure means depends on it (issue 10: "state the machine").
#pragma once

#include <bond/value.hpp>

namespace bench {

// CPU model, cores, memory, kernel, compiler, build type, the date (UTC).
bond::Value describe_machine();
// The 1, 5 and 15 minute load averages now.
bond::Value load_average();

}  // namespace bench
