#include "drivers_command.hpp"

#include "bond/driver_registry.hpp"
#include "terminal_output.hpp"
#include "transport/command_line.hpp"

#include <bond/bond.hpp>

#include <boost/process/search_path.hpp>

#include <cstdio>
#include <future>
#include <iostream>

namespace bond::cli {
namespace {

struct DriverReport {
    std::string lang;
    std::string command;  // the default interpreter's program
    std::string path;     // where PATH finds it; empty when it does not
    std::string version;
    std::string error;
};

// Where to get the interpreter: the Debian packages its entry of drivers/registry.json names.
std::string install_hint(const detail::DriverSpec& spec) {
    std::string packages;
    for (const auto& package : spec.entry.value("debian_packages", Value::array()))
        packages += " " + package.get<std::string>();
    return packages.empty() ? "" : " (Debian: apt-get install" + packages + ")";
}

DriverReport inspect(const std::string& lang) {
    DriverReport report{lang, {}, {}, {}, {}};
    const detail::DriverSpec* spec = detail::find_driver(lang);
    auto words = detail::split_command_line(spec->command);
    report.command = words.empty() ? spec->command : words.front();
    report.path = boost::process::search_path(report.command).string();
    if (report.path.empty()) {
        report.error = report.command + " is not on PATH" + install_hint(*spec);
        return report;
    }
    try {
        Options options;
        options.timeout = options.start_timeout = std::chrono::seconds(30);
        options.on_output = [](Channel, std::string_view) {};  // a driver's greeting, if any
        report.version = make_bond(lang, std::move(options)).version();
    } catch (const std::exception& error) {
        report.error = error.what();
    }
    return report;
}

}  // namespace

int run_drivers(bool as_json) {
    std::vector<std::future<DriverReport>> pending;
    for (const auto& lang : list_drivers())
        pending.push_back(std::async(std::launch::async, inspect, lang));
    std::vector<DriverReport> reports;
    reports.reserve(pending.size());
    for (auto& report : pending) reports.push_back(report.get());

    bool any_works = false;
    Value table = Value::array();
    for (const auto& report : reports) {
        any_works = any_works || report.error.empty();
        table.push_back({{"lang", report.lang},
                         {"command", report.command},
                         {"path", report.path.empty() ? Value() : Value(report.path)},
                         {"found", report.error.empty()},
                         {"version", report.version.empty() ? Value() : Value(report.version)},
                         {"error", report.error.empty() ? Value() : Value(report.error)}});
    }
    if (as_json) {
        std::cout << value_as_json(table) << '\n';
    } else {
        for (const auto& report : reports) {
            std::printf("%-11s %-9s %s\n", report.lang.c_str(),
                        report.error.empty() ? report.version.c_str() : "-",
                        report.error.empty() ? report.path.c_str()
                                             : ("not usable: " + report.error).c_str());
        }
    }
    return any_works ? 0 : 1;
}

}  // namespace bond::cli
