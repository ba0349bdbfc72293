// The host's memory for one large payload, measured in a fresh process (this program run again
// with --memory-probe) so that what earlier figures left in the allocator cannot hide it: the
// growth of the peak resident set over a call of ident(s) with s already built.
#pragma once

#include "languages.hpp"

#include <bond/value.hpp>

#include <cstddef>
#include <map>
#include <string>

namespace bench {

// In the fresh process: prints {"growth_bytes": [...]} for `calls` calls, each with the peak
// reset before it where the kernel allows it (/proc/self/clear_refs).
int memory_probe_main(const Language& language, std::size_t payload_bytes, int calls);
// In the benchmark: runs the probe and returns what it printed. `environment` (added to this
// process's) lets glibc's allocator be tuned for it (MALLOC_TRIM_THRESHOLD_).
bond::Value probe_memory(const std::string& self, const Language& language,
                         std::size_t payload_bytes, int calls,
                         const std::map<std::string, std::string>& environment = {});

}  // namespace bench
