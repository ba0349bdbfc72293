#include "log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace bond::detail {

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        if (auto existing = spdlog::get("bond")) return existing;
        auto created = spdlog::stderr_color_mt("bond");
        const char* level = std::getenv("BOND_LOG_LEVEL");
        created->set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
        return created;
    }();
    return *logger;
}

}  // namespace bond::detail
