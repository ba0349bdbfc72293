// The languages as the C++ tests and the benchmark see them: each language of
// drivers/registry.json (the facts about the language itself) with its entry of
// tests/languages.json (the snippets the tests run) merged in, in the registry's order; the
// Python tests' twin is tests/support/languages.py. BOND_SOURCE_DIR is the source tree.
#pragma once

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace bond_tests {

inline nlohmann::json read_json(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("cannot read " + path);
    return nlohmann::json::parse(file);
}

// Whether the shared suites (conformance, faults, remote, daemon, command line, benchmark) run
// the language: all but those whose entry of tests/languages.json says "shared_suites": false
// (Pyodide, which has a suite of its own: tests/pyodide).
inline bool in_shared_suites(const nlohmann::json& tests_entry) {
    return tests_entry.value("shared_suites", true);
}

// The names of the registered languages the shared suites leave out (see in_shared_suites).
inline std::vector<std::string> languages_outside_shared_suites() {
    std::vector<std::string> names;
    nlohmann::json tests = read_json(BOND_SOURCE_DIR "/tests/languages.json");
    for (const auto& entry : tests.at("languages"))
        if (!in_shared_suites(entry)) names.push_back(entry.at("name"));
    return names;
}

// Each entry: the registry's fields (name, aliases, command, args, version_command, ...), "key"
// (the name in lower case) and "interpreter" (the command), then the tests' fields; only the
// languages in the shared suites.
inline const nlohmann::json& language_table() {
    static const nlohmann::json table = [] {
        nlohmann::json registry = read_json(BOND_SOURCE_DIR "/drivers/registry.json");
        nlohmann::json tests = read_json(BOND_SOURCE_DIR "/tests/languages.json");
        nlohmann::json merged = nlohmann::json::array();
        for (nlohmann::json language : registry.at("languages")) {
            std::string name = language.at("name");
            const nlohmann::json* own = nullptr;
            for (const auto& entry : tests.at("languages"))
                if (entry.at("name") == name) own = &entry;
            if (own == nullptr)
                throw std::runtime_error(name + " has no entry in tests/languages.json");
            if (!in_shared_suites(*own)) continue;
            std::string key = name;
            for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            language["key"] = key;
            language["interpreter"] = language.at("command");
            language.update(*own, true);  // "notes" of both kept
            merged.push_back(language);
        }
        return merged;
    }();
    return table;
}

}  // namespace bond_tests
