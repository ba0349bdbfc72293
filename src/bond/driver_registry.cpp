#include "driver_registry.hpp"

#include "../protocol/base64.hpp"

#include <bond/errors.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace bond::detail {
namespace {

// Python runs with -i: its interactive loop reads one line from stdin, a byte per system call
// (a 50 KB line cost 100-200 ms of start-up). So that line is a short reader of the loader
// (drivers/python/loader.py) that follows it, raw, with os.read: no quoting of any shell between
// here and the interpreter matters. The loader reads the driver's source that follows it and runs
// it in a namespace of its own, compiled or from its cache. The host sends nothing more before the
// driver's ready message, so nothing after the source can be read by mistake. -S keeps `site`
// from setting the interactive hook that imports readline and rlcompleter (and with it inspect:
// 20-30 ms) before the loop starts; the loader then runs site.main() itself, so that
// site-packages, sitecustomize and exit() are there as usual.
std::string python_bootstrap(std::string_view source) {
    std::string_view loader = embedded_driver("python_loader");
    std::string size = std::to_string(loader.size());
    return "exec(\"import os\\nb=b''\\nwhile len(b)<" + size + ":\\n c=os.read(0," + size +
           "-len(b))\\n if not c:os._exit(70)\\n b+=c\\nexec(compile(b,'<bond-loader>','exec'),"
           "{'__name__':'__bond_loader__','DRIVER_SIZE':" +
           std::to_string(source.size()) + "})\",{})\n" + std::string(loader) + std::string(source);
}

// PHP runs its interactive shell (-a, with the readline extension), which reads one line from
// stdin, a byte per system call, and runs it at the global scope: that line reads the driver's
// source, sent raw after it, with one read, and evals it ('?>' first, because the driver is a
// file that starts with <?php). The host sends nothing more before the ready message, so nothing
// after the source can be read by mistake. -d options keep PHP's own warnings off stdout
// (display_errors=stderr) and unduplicated (log_errors=0), and make sure the FFI extension the
// driver needs for dup2() is usable.
std::string php_bootstrap(std::string_view source) {
    return "eval('?>'.file_get_contents('php://fd/0',false,null,0," +
           std::to_string(source.size()) + "));\n" + std::string(source);
}

// Perl runs with no arguments, so it reads its program from stdin: the driver's source and then
// a line __END__, where perl stops reading and runs the program. The rest of stdin stays unread,
// for the driver's protocol.
std::string perl_bootstrap(std::string_view source) {
    return std::string(source) + "\n__END__\n";
}

// Node runs its REPL (-i), which reads one line from stdin: that line decodes the driver from
// base64 and calls it as the launcher (see drivers/javascript/driver.js), handing it its own
// source to start the driver process with, and the source of its watcher thread
// (drivers/javascript/watcher.js).
std::string javascript_bootstrap(std::string_view source) {
    return "((s,w)=>eval(s)('launcher',s,w))(Buffer.from('" + base64_encode(source) +
           "','base64').toString(),Buffer.from('" +
           base64_encode(embedded_driver("javascript_watcher")) + "','base64').toString())\n";
}

// The Pyodide driver's Python half with drivers/python/driver.py's sections put in where it names
// them (a line "#@bond-python-section TITLE"): a section runs from its "# --- TITLE ---" line to
// the next such line.
std::string pyodide_python_driver() {
    std::string_view python = embedded_driver("python");
    std::string_view pyodide = embedded_driver("pyodide_driver");
    const std::string mark = "#@bond-python-section ";
    std::string composed;
    for (std::size_t at = 0; at < pyodide.size();) {
        std::size_t end = std::min(pyodide.find('\n', at), pyodide.size() - 1) + 1;
        std::string_view line = pyodide.substr(at, end - at);
        at = end;
        if (line.substr(0, mark.size()) != mark) {
            composed += line;
            continue;
        }
        std::string title(line.substr(mark.size()));
        while (!title.empty() && (title.back() == '\n' || title.back() == '\r')) title.pop_back();
        std::size_t start = python.find("\n# --- " + title + " ---");
        std::size_t next =
            start == std::string_view::npos ? start : python.find("\n# --- ", start + 1);
        if (next == std::string_view::npos)
            throw std::logic_error("drivers/python/driver.py has no section " + title);
        composed += python.substr(start + 1, next - start);
    }
    return composed;
}

// Pyodide: the host runs `node -e LOADER` (drivers/registry.json), and the loader reads from stdin
// a header line and then the two halves of the driver as they are: drivers/pyodide/driver.js,
// which it calls as the launcher, and driver.py (see pyodide_python_driver), which runs inside
// Pyodide. The header gives their sizes and where the pyodide package may be, in order: the
// install prefix's share/bond/pyodide (cmake --install puts it there) and the source tree's
// node_modules, as the library was built (BOND_PYODIDE_DIRS); BOND_PYODIDE_DIR in the environment
// comes first.
std::string pyodide_bootstrap(std::string_view source) {
    static const std::string python = pyodide_python_driver();
    nlohmann::json dirs = nlohmann::json::array();
    std::string_view places = BOND_PYODIDE_DIRS;
    for (std::size_t at = 0; at <= places.size();) {
        std::size_t end = std::min(places.find(':', at), places.size());
        if (end > at) dirs.push_back(std::string(places.substr(at, end - at)));
        at = end + 1;
    }
    nlohmann::json header = {{"dirs", dirs}, {"js", source.size()}, {"py", python.size()}};
    return header.dump() + "\n" + std::string(source) + python;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

// The bootstraps an entry of drivers/registry.json names ("bootstrap"). Another interpreter that,
// like perl, reads its program from stdin and stops reading at a line __END__ can take Perl's.
Bootstrap bootstrap_named(const std::string& name) {
    static const std::map<std::string, Bootstrap> bootstraps = {
        {"python", python_bootstrap},   {"php", php_bootstrap},
        {"perl", perl_bootstrap},       {"javascript", javascript_bootstrap},
        {"pyodide", pyodide_bootstrap},
    };
    auto found = bootstraps.find(name);
    if (found == bootstraps.end())
        throw std::logic_error("drivers/registry.json names an unknown bootstrap: " + name);
    return found->second;
}

std::string lower_case(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

DriverSpec from_registry(const nlohmann::json& entry) {
    DriverSpec driver{
        .name = entry.at("name"),
        .aliases = entry.at("aliases"),
        .command = entry.at("command"),
        .default_args = entry.at("args"),
        .bootstrap = bootstrap_named(entry.at("bootstrap")),
        .source = embedded_driver(lower_case(entry.at("name"))),
        .entry = entry,
    };
    if (driver.source.empty())
        throw std::logic_error("the driver of " + driver.name + " is not embedded");
    return driver;
}

}  // namespace

const std::vector<DriverSpec>& all_drivers() {
    static const std::vector<DriverSpec> drivers = [] {
        nlohmann::json registry = nlohmann::json::parse(embedded_driver("registry.json"));
        std::vector<DriverSpec> all;
        for (const auto& entry : registry.at("languages")) all.push_back(from_registry(entry));
        return all;
    }();
    return drivers;
}

const DriverSpec* find_driver(std::string_view lang) {
    for (const auto& driver : all_drivers()) {
        if (equals_ignoring_case(lang, driver.name)) return &driver;
        for (const auto& alias : driver.aliases)
            if (equals_ignoring_case(lang, alias)) return &driver;
    }
    return nullptr;
}

std::string known_language_names() {
    std::string known;
    for (const auto& driver : all_drivers()) known += (known.empty() ? "" : ", ") + driver.name;
    return known;
}

const DriverSpec& known_driver(std::string_view lang) {
    if (const DriverSpec* driver = find_driver(lang)) return *driver;
    throw BondException(
        "", "unknown language '" + std::string(lang) + "'; known: " + known_language_names());
}

}  // namespace bond::detail
