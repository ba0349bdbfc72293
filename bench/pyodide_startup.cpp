// Start-up of Pyodide beside CPython's (issue 26): make_bond to the first completed call
// (`abs(-1)`), the median and the range of --runs starts of each, one at a time. Run by hand
// (docs/performance.md, "Pyodide"), not by ctest or scripts/bench: a cold Pyodide takes seconds.
#include <bond/bond.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

double start_ms(const std::string& language) {
    auto began = std::chrono::steady_clock::now();
    bond::Options options;
    options.on_output = [](bond::Channel, std::string_view) {};
    bond::Bond remote = bond::make_bond(language, std::move(options));
    if (remote.eval("abs(-1)") != 1) throw std::runtime_error(language + ": abs(-1) is not 1");
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - began;
    return took.count();
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 5;
    for (int at = 1; at + 1 < argc; ++at)
        if (std::string_view(argv[at]) == "--runs") runs = std::max(1, std::atoi(argv[at + 1]));
    std::cout << "| language | start-up, ms: median (min-max) of " << runs << " |\n|---|---|\n";
    for (const std::string language : {"Python", "Pyodide"}) {
        std::vector<double> times;
        for (int run = 0; run < runs; ++run) times.push_back(start_ms(language));
        std::sort(times.begin(), times.end());
        std::cout << "| " << language << " | " << times[times.size() / 2] << " (" << times.front()
                  << "-" << times.back() << ") |\n";
    }
}
