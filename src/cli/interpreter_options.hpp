// The options that say how to start an interpreter, shared by repl, eval, exec and call, and
// their translation into bond::Options.
#pragma once
#include <bond/options.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace bond::cli {

struct InterpreterArguments {
    std::string command;
    std::vector<std::string> args;
    std::string cwd;
    std::optional<double> timeout_seconds;
    std::vector<std::string> limits;  // each "wall=2s,cpu=1s,..."
    bool sandbox = false;
    std::vector<std::string> sandbox_read_only;
    std::vector<std::string> sandbox_writable;
    std::string container;  // "", lxc, lxc-unprivileged or nspawn
    std::vector<std::string> container_writable;
};

void add_interpreter_options(CLI::App& command, InterpreterArguments& arguments);

// The options for make_bond. A command-line tool waits as long as the code runs unless
// --timeout says otherwise (Ctrl+C stops it); remote output goes to `on_output`.
Options to_options(const InterpreterArguments& arguments);

// "wall=2s,cpu=1s,memory=256M,output=1M,grace=500ms" -> Limits; std::invalid_argument naming what
// is wrong. Durations: a number with ms, s, m or h (s when bare); sizes: bytes, or K, M, G (1024).
Limits parse_limits(std::string_view text, Limits limits = {});

}  // namespace bond::cli
