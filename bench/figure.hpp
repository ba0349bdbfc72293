// One row of the benchmark's table: a figure of a bond, the floor it is compared with, their
// ratio, and the target for it (issue 10), met or missed.
#pragma once

#include <bond/value.hpp>

#include <optional>
#include <string>

namespace bench {

// The targets of issue 10, as ratios in one run.
namespace target {
constexpr double kSmallCall = 0.7;      // bond calls/s >= 0.7 x floor
constexpr double kCallback = 0.6;       // callback calls/s >= 0.6 x floor
constexpr double kObjectCall = 0.87;    // Object::call calls/s >= 1/1.15 x call: within 15%
constexpr double kPayload = 0.6;        // 1 MiB and 16 MiB: MiB/s >= 0.6 x floor
constexpr double kPayloadMemory = 5;    // host memory for a 16 MiB payload < 5 x the payload
constexpr double kStartupExtraMs = 15;  // make_bond to the first call <= interpreter + 15 ms
constexpr double kWarmOpenMs = 2;       // open from bondd's warm pool < 2 ms
constexpr double kDaemon = 0.4;         // through bondd: calls/s >= 0.4 x floor
constexpr double kParallelTwo = 1.6;    // 2 bonds from 2 threads >= 1.6 x one bond
constexpr double kIdleExtraMiB = 2;     // issue 25: an idle bond <= its bare interpreter + 2 MiB
constexpr double kClientPackage = 0.8;  // issue 23: clients/ calls/s >= 0.8 x a raw request loop
}  // namespace target

struct Figure {
    std::string key{};              // in the JSON: "small_call", "payload_1MiB", ...
    std::string title{};            // in the table
    std::string unit{};             // "calls/s", "MiB/s", "ms", "MiB"
    std::optional<double> floor{};  // what it is compared with, in the same unit
    std::optional<double> value{};  // the bond's
    std::optional<double> ratio{};  // as the target reads it (usually value / floor)
    std::string target{};           // in words; empty: no target
    std::optional<bool> met{};
    bond::Value details = bond::Value::object();  // samples and counts
};

// value / floor when both are known.
std::optional<double> ratio_of(const std::optional<double>& value,
                               const std::optional<double>& floor);
// met when ratio >= minimum (unknown when the ratio is).
std::optional<bool> at_least(const std::optional<double>& ratio, double minimum);

}  // namespace bench
