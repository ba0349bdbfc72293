// The daemon's spdlog logger, "bondd": one line per connection and per bond lifecycle event;
// the traffic itself only with --log-traffic.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace bond::daemon {

spdlog::logger& log();
// Sets the level of "bondd" and of the library's "bond" logger (the library logs payloads at
// trace: it stays at debug or above unless `traffic`). Throws std::invalid_argument for an
// unknown level name.
void configure_logging(const std::string& level, bool traffic);
// True when every message line is to be logged (--log-traffic).
bool log_traffic();

}  // namespace bond::daemon
