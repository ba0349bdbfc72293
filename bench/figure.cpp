#include "figure.hpp"

namespace bench {

std::optional<double> ratio_of(const std::optional<double>& value,
                               const std::optional<double>& floor) {
    if (!value || !floor || *floor == 0) return std::nullopt;
    return *value / *floor;
}

std::optional<bool> at_least(const std::optional<double>& ratio, double minimum) {
    if (!ratio) return std::nullopt;
    return *ratio >= minimum;
}

}  // namespace bench
