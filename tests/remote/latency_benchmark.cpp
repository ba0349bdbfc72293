// How long a bond takes to start and to make one call, through a given command: the figures of
// docs/remote.md (Performance). Not a test: run it by hand, e.g.
//   build/tests/remote_latency Python "ssh -F build/tests/sshd/ssh_config bond-a python3"
// (ctest leaves no sshd running: start one with tests/remote/sshd_fixture.sh start DIR).
#include <bond/bond.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}
}  // namespace

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::cerr << "usage: remote_latency LANGUAGE [COMMAND]\n";
        return 2;
    }
    bond::Options options{.command = argc > 2 ? argv[2] : ""};
    std::vector<double> starts;
    for (int i = 0; i < 5; ++i) {
        auto start = Clock::now();
        bond::Bond remote = bond::make_bond(argv[1], options);
        starts.push_back(milliseconds_since(start));
    }
    bond::Bond remote = bond::make_bond(argv[1], options);
    auto identity = remote.callable(remote.lang() == "Perl" ? "sprintf" : "str");
    if (remote.lang() == "PHP") identity = remote.callable("strval");
    std::vector<double> calls, exports;
    remote.export_function("nothing", [] { return 0; });
    std::string call_export =
        remote.lang() == "Perl" || remote.lang() == "PHP" ? "nothing();" : "nothing()";
    for (int i = 0; i < 1000; ++i) {
        auto start = Clock::now();
        identity("x");
        calls.push_back(milliseconds_since(start));
        start = Clock::now();
        remote.eval(call_export);
        exports.push_back(milliseconds_since(start));
    }
    std::string payload(1 << 20, 'x');
    auto start = Clock::now();
    identity(payload);
    double megabyte = milliseconds_since(start);
    std::cout << "start " << median(starts) << " ms, call " << median(calls) * 1000
              << " us, call with a nested export " << median(exports) * 1000
              << " us, 1 MiB there and back " << megabyte << " ms (medians)\n";
    return 0;
} catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
}
