// The "bond" spdlog logger: level from BOND_LOG_LEVEL (trace, debug, info, warn, error, off),
// quiet by default. A program may register its own logger named "bond" first to redirect it.
#pragma once

#include <spdlog/spdlog.h>

namespace bond::detail {
spdlog::logger& log();
}
