// The languages bond knows: how to start each interpreter and how to inject its driver, read from
// drivers/registry.json (embedded at build time with the drivers). Adding a language adds an entry
// there and a folder in drivers/, and here a bootstrap only if none of bootstrap_named's fits.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bond::detail {

// The bytes written to the interpreter's stdin to start the driver: code that the interpreter runs
// as it is, with no shell quoting involved.
using Bootstrap = std::string (*)(std::string_view driver_source);

struct DriverSpec {
    std::string name;                       // canonical: "Python"
    std::vector<std::string> aliases;       // lower case, matched case-insensitively with name
    std::string command;                    // the default interpreter
    std::vector<std::string> default_args;  // dropped by Options::def_args = false
    Bootstrap bootstrap;                    // the one the entry names
    std::string_view source;                // drivers/<language>/..., embedded at build time
    nlohmann::json entry;                   // the language's whole entry of drivers/registry.json
};

// nullptr when `lang` names no known language.
const DriverSpec* find_driver(std::string_view lang);
// "Python, PHP, Perl, JavaScript": the canonical names, in the registry's order, for messages.
std::string known_language_names();
// find_driver's, or BondException naming the languages known when `lang` is none of them.
const DriverSpec& known_driver(std::string_view lang);
const std::vector<DriverSpec>& all_drivers();  // in the registry's order
// A file embedded by cmake/EmbedDrivers.cmake: "registry.json", or a driver's file by the name that
// file gives it ("python", "javascript_watcher"); empty when there is none of that name.
std::string_view embedded_driver(std::string_view name);

}  // namespace bond::detail
