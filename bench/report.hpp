// What a run found, as the table it prints and as the JSON it writes (bench/results/latest.json).
#pragma once

#include "language_run.hpp"

#include <bond/value.hpp>

#include <ostream>
#include <vector>

namespace bench {

void print_table(std::ostream& out, const LanguageResult& language);
// How many targets were met and missed, over every language.
void print_summary(std::ostream& out, const std::vector<LanguageResult>& languages);
bond::Value to_json(const LanguageResult& language);

}  // namespace bench
