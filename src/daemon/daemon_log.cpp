#include "daemon_log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace bond::daemon {
namespace {
std::atomic<bool> traffic_logged{false};

std::shared_ptr<spdlog::logger> logger_named(const std::string& name) {
    if (auto existing = spdlog::get(name)) return existing;
    return spdlog::stderr_color_mt(name);
}
}  // namespace

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = logger_named("bondd");
    return *logger;
}

void configure_logging(const std::string& level, bool traffic) {
    spdlog::level::level_enum parsed = spdlog::level::from_str(level);
    // from_str answers "off" for any name it does not know.
    if (parsed == spdlog::level::off && level != "off")
        throw std::invalid_argument("unknown log level '" + level +
                                    "' (trace, debug, info, warn, error, critical, off)");
    log().set_level(parsed);
    // The library's own logger, registered before the first bond so that the library uses it.
    // Its info lines repeat the daemon's lifecycle lines: they show from debug on. It logs
    // payloads at trace, which only --log-traffic lets through.
    auto library = logger_named("bond");
    if (traffic)
        library->set_level(parsed);
    else if (parsed <= spdlog::level::debug)
        library->set_level(spdlog::level::debug);
    else
        library->set_level(std::max(parsed, spdlog::level::warn));
    traffic_logged = traffic;
}

bool log_traffic() {
    return traffic_logged;
}

}  // namespace bond::daemon
