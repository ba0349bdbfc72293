// bond_bench: the figures of issue 10 for every language, side by side with the floor (each
// interpreter's own minimal loop over pipes), as a table and as JSON. Run by scripts/bench;
// docs/performance.md says what each figure measures and what the latest run found.
#include "language_run.hpp"
#include "languages.hpp"
#include "machine.hpp"
#include "memory_probe.hpp"
#include "report.hpp"

#include <CLI/CLI.hpp>

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

std::vector<std::string> split_list(const std::vector<std::string>& items) {
    std::vector<std::string> words;
    for (const auto& item : items) {
        std::stringstream stream(item);
        std::string word;
        while (std::getline(stream, word, ','))
            if (!word.empty()) words.push_back(word);
    }
    return words;
}

const bench::Language* find_language(std::string key) {
    if (key == "js" || key == "node") key = "javascript";
    for (const auto& language : bench::all_languages())
        if (language.key == key) return &language;
    return nullptr;
}

std::string language_keys() {
    std::string keys;
    for (const auto& language : bench::all_languages())
        keys += (keys.empty() ? "" : ",") + language.key;
    return keys;
}

std::string group_names() {
    std::string names;
    for (const auto& group : bench::figure_groups()) names += (names.empty() ? "" : ",") + group;
    return names;
}

}  // namespace

int main(int argc, char** argv) try {
    CLI::App app{"bond_bench: bond's figures of issue 10 against each interpreter's floor"};
    bool quick = false;
    std::vector<std::string> lang_items, only_items;
    int repetitions = 5;
    double seconds = 0.3;
    std::string output = std::string(BOND_BENCH_SOURCE_DIR) + "/results/latest.json";
    std::string bondd = BOND_BENCH_BONDD;
    std::vector<int> cpus;
    std::string probe_language;
    std::size_t probe_bytes = 16 << 20;
    int probe_calls = 3;
    app.add_flag("--quick", quick, "a smoke run: 3 short repetitions of everything");
    app.add_option("--lang", lang_items,
                   "languages, comma-separated (default: " + language_keys() + ")");
    app.add_option(
        "--only", only_items,
        "figures, comma-separated (default: " + group_names() +
            "); call, callback, object and daemon measure the floor too, for their ratios");
    app.add_option("--repetitions", repetitions, "repetitions per figure; the median is reported")
        ->check(CLI::Range(1, 1000));
    app.add_option("--seconds", seconds, "the length of one repetition")
        ->check(CLI::Range(0.001, 60.0));
    app.add_option("--output", output, "where the JSON goes")->capture_default_str();
    app.add_option("--cpus", cpus,
                   "run everything (this program, the interpreters, bondd) on these CPUs only, "
                   "comma-separated: --cpus 0 takes the cost of waking another CPU out of the "
                   "figures")
        ->delimiter(',');
    app.add_option("--bondd", bondd, "the bondd to measure")->capture_default_str();
    // Internal: the memory figure, measured in a fresh process (memory_probe.hpp).
    app.add_option("--memory-probe", probe_language)->group("");
    app.add_option("--payload-bytes", probe_bytes)->group("");
    app.add_option("--calls", probe_calls)->group("");
    CLI11_PARSE(app, argc, argv);

    if (!probe_language.empty()) {
        const bench::Language* language = find_language(probe_language);
        if (!language) throw std::runtime_error("unknown language " + probe_language);
        return bench::memory_probe_main(*language, probe_bytes, probe_calls);
    }

    if (!cpus.empty()) {
        // Inherited by every process the run starts.
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int cpu : cpus) CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            throw std::runtime_error("cannot run on CPUs " + CLI::detail::join(cpus, ","));
    }
    bench::RunSettings settings{
        .sampling = quick ? bench::Sampling{.repetitions = 3, .seconds = 0.02}
                          : bench::Sampling{.repetitions = repetitions, .seconds = seconds},
        .floor_directory = std::string(BOND_BENCH_SOURCE_DIR) + "/floor",
        .clients_directory = std::string(BOND_BENCH_SOURCE_DIR) + "/clients",
        .bondd = bondd,
        .self = std::filesystem::canonical("/proc/self/exe").string(),
        .quick = quick};
    for (const auto& group : split_list(only_items)) {
        const auto& groups = bench::figure_groups();
        if (std::find(groups.begin(), groups.end(), group) == groups.end())
            throw std::runtime_error("unknown figure " + group + " (known: " + group_names() + ")");
        settings.only.insert(group);
    }
    std::vector<const bench::Language*> languages;
    for (const auto& key : split_list(lang_items)) {
        const bench::Language* language = find_language(key);
        if (!language)
            throw std::runtime_error("unknown language " + key + " (known: " + language_keys() +
                                     ")");
        languages.push_back(language);
    }
    if (languages.empty())
        for (const auto& language : bench::all_languages()) languages.push_back(&language);

    bond::Value report = {{"machine", bench::describe_machine()},
                          {"load_average", {{"start", bench::load_average()}}},
                          {"settings",
                           {{"repetitions", settings.sampling.repetitions},
                            {"seconds_per_repetition", settings.sampling.seconds},
                            {"quick", quick},
                            {"cpus", cpus},
                            {"only", settings.only}}},
                          {"languages", bond::Value::object()}};
    std::cout << "bond_bench on " << report["machine"]["cpu"].get<std::string>() << ", "
              << report["machine"]["cores"] << " cores, "
              << report["machine"]["kernel"].get<std::string>() << "; load average "
              << report["load_average"]["start"].dump() << std::endl;
    std::vector<bench::LanguageResult> results;
    for (const auto* language : languages) {
        std::cerr << language->key << std::endl;
        results.push_back(bench::run_language(*language, settings));
        bench::print_table(std::cout, results.back());
        std::cout << std::flush;
        report["languages"][language->key] = bench::to_json(results.back());
    }
    report["load_average"]["end"] = bench::load_average();
    bench::print_summary(std::cout, results);
    std::cout << "load average at the end " << report["load_average"]["end"].dump() << "\n";

    std::filesystem::path path(output);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream file(path);
    file << report.dump(2) << "\n";
    if (!file) throw std::runtime_error("cannot write " + output);
    std::cout << "written to " << output << "\n";
    bool complete = true;
    for (const auto& result : results) complete = complete && result.errors.empty();
    return complete ? 0 : 1;
} catch (const std::exception& error) {
    std::cerr << "bond_bench: " << error.what() << "\n";
    return 2;
}
