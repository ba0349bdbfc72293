#include "one_shot.hpp"

#include "interrupt_watcher.hpp"
#include "language_hints.hpp"
#include "local_target.hpp"
#include "remote_trace.hpp"
#include "signal_pipe.hpp"
#include "terminal_output.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace bond::cli {
namespace {

constexpr int kFailed = 1;
constexpr int kInterrupted = 130;  // 128 + SIGINT, as shells report a program Ctrl+C ended

// The name errors give a file: as the user typed it; stdin has none.
std::string source_name(const std::string& file) {
    return file == "-" ? std::string() : file;
}

// Starts the bond, loads the files, runs `operation` on it with Ctrl+C interrupting it.
template <class F>
int run_once(const OneShot& shot, TerminalOutput& output, SignalPipe& signals, F&& operation) {
    std::optional<LocalTarget> target;
    bool interrupted = false;
    try {
        Options options = to_options(shot.interpreter);
        options.on_output = output.output_sink();
        target.emplace(shot.lang, std::move(options));
        InterruptWatcher watcher(signals, *target);
        try {
            for (const auto& file : shot.loads)
                target->eval_block(file_as_block(hints_for(target->lang()), read_source(file)),
                                   source_name(file));
            operation(*target);
        } catch (...) {
            interrupted = watcher.interrupted() || signals.ending();
            throw;
        }
        target->close();
        return signals.ending() ? kInterrupted : 0;
    } catch (const TerminatedException& error) {
        // exit(3) in the code (not at the start): the command ends with its status, quietly
        if (auto status = code_exit_status(error); target && status && !interrupted) return *status;
        output.write_error(error_text(error));
        return interrupted ? kInterrupted : kFailed;
    } catch (const std::exception& error) {
        const auto* bond_error = dynamic_cast<const BondException*>(&error);
        output.write_error(bond_error != nullptr ? error_text(*bond_error)
                                                 : "bond: " + std::string(error.what()));
        if (target) target->close();
        return interrupted ? kInterrupted : kFailed;
    }
}

}  // namespace

std::string read_source(const std::string& file) {
    std::ostringstream text;
    if (file == "-") {
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream stream(file, std::ios::binary);
    if (!stream) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
    text << stream.rdbuf();
    if (stream.bad()) throw std::runtime_error("cannot read " + file + ": " + std::strerror(errno));
    return text.str();
}

int run_eval(const OneShot& shot, const std::string& code, TerminalOutput& output,
             SignalPipe& signals) {
    return run_once(shot, output, signals,
                    [&](ReplTarget& target) { output.write_shown(target.eval_shown(code)); });
}

int run_exec(const OneShot& shot, const std::string& file,
             const std::vector<std::string>& arguments, TerminalOutput& output,
             SignalPipe& signals) {
    std::string source = read_source(file);  // before the interpreter starts: no wasted start
    std::string path =
        file == "-" ? "" : std::filesystem::absolute(file).lexically_normal().string();
    return run_once(shot, output, signals, [&](ReplTarget& target) {
        const LanguageHints& hints = hints_for(target.lang());
        set_program(target, hints, file, path, arguments);
        target.eval_block(file_as_block(hints, source), source_name(file));
    });
}

int run_call(const OneShot& shot, const std::string& name, const Value& arguments,
             TerminalOutput& output, SignalPipe& signals) {
    return run_once(shot, output, signals,
                    [&](ReplTarget& target) { output.write_value(target.call(name, arguments)); });
}

}  // namespace bond::cli
