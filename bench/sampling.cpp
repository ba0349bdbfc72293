#include "sampling.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    if (values.empty()) return NAN;
    std::sort(values.begin(), values.end());
    std::size_t middle = values.size() / 2;
    return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

std::size_t operations_per_repetition(const Sampling& sampling, std::size_t count, double elapsed) {
    double per_operation = elapsed / static_cast<double>(std::max<std::size_t>(count, 1));
    double wanted = sampling.seconds / std::max(per_operation, 1e-9);
    return static_cast<std::size_t>(std::clamp(wanted, 1.0, 1e8));
}

std::vector<std::vector<double>> rates(const Sampling& sampling, std::size_t warmup,
                                       const std::vector<Batch>& batches) {
    warmup = std::max<std::size_t>(warmup, 1);
    std::vector<std::size_t> counts;
    for (const auto& batch : batches) {
        auto start = Clock::now();
        batch(warmup);
        counts.push_back(operations_per_repetition(sampling, warmup, seconds_since(start)));
    }
    std::vector<std::vector<double>> samples(batches.size());
    for (int repetition = 0; repetition < sampling.repetitions; ++repetition) {
        for (std::size_t which = 0; which < batches.size(); ++which) {
            auto start = Clock::now();
            batches[which](counts[which]);
            samples[which].push_back(static_cast<double>(counts[which]) / seconds_since(start));
        }
    }
    return samples;
}

}  // namespace bench
