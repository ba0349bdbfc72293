// How the benchmark samples a figure: each repetition runs enough operations to last about
// `seconds`, judged from a warm-up batch, and the figure is the median over the repetitions.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

struct Sampling {
    int repetitions = 5;
    double seconds = 0.4;  // the length of one repetition aimed at
};

double seconds_since(Clock::time_point start);
double median(std::vector<double> values);

using Batch = std::function<void(std::size_t)>;  // runs n operations

// Operations per second of each batch, one sample per repetition. The batches take turns within
// each repetition, so that a change of the machine's load meanwhile touches all of them alike.
// Each batch's count per repetition comes from a warm-up of `warmup` operations of its own.
std::vector<std::vector<double>> rates(const Sampling& sampling, std::size_t warmup,
                                       const std::vector<Batch>& batches);

// How many operations of a batch that ran `count` in `elapsed` seconds fill one repetition.
std::size_t operations_per_repetition(const Sampling& sampling, std::size_t count, double elapsed);

}  // namespace bench
