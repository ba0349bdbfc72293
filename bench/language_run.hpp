// The seven figures of one language (issue 10), measured side by side in one run: floor, call,
// callback, payload, startup, daemon, parallel.
#pragma once

#include "figure.hpp"
#include "languages.hpp"
#include "sampling.hpp"

#include <set>
#include <string>
#include <vector>

namespace bench {

// The figure groups --only picks from.
const std::vector<std::string>& figure_groups();

struct RunSettings {
    Sampling sampling;
    std::set<std::string> only{};  // figure groups to measure; empty: all
    std::string floor_directory{};
    std::string clients_directory{};
    std::string bondd{};
    std::string self{};  // this program, run again to measure memory in a fresh process
    bool quick = false;
};

struct LanguageResult {
    std::string key, name, version, json_module;
    std::vector<Figure> figures;
    std::vector<std::string> errors;  // figures that could not be measured, and why
};

LanguageResult run_language(const Language& language, const RunSettings& settings);

}  // namespace bench
