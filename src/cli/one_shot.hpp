// bond eval, bond exec and bond call: one operation on a new bond, its output forwarded, then
// the bond closed. Exit status: 0, 1 when the bond or the code failed (the error on stderr), 130
// when Ctrl+C interrupted the code, the code's own when it called exit().
#pragma once
#include "interpreter_options.hpp"

#include <bond/value.hpp>

#include <string>
#include <vector>

namespace bond::cli {

class SignalPipe;
class TerminalOutput;

struct OneShot {
    std::string lang;
    InterpreterArguments interpreter;
    // Files run with eval_block first (bond call --load).
    std::vector<std::string> loads;
};

// Prints the value of `code` as JSON.
int run_eval(const OneShot& shot, const std::string& code, TerminalOutput& output,
             SignalPipe& signals);
// Runs the file (or stdin for "-") with eval_block, the program's arguments and file name set as
// the language's own command sets them (sys.argv, __file__, ...).
int run_exec(const OneShot& shot, const std::string& file,
             const std::vector<std::string>& arguments, TerminalOutput& output,
             SignalPipe& signals);
// Prints the value of name(arguments...) as JSON.
int run_call(const OneShot& shot, const std::string& name, const Value& arguments,
             TerminalOutput& output, SignalPipe& signals);

// A file's text, or stdin's for "-"; std::runtime_error when it cannot be read.
std::string read_source(const std::string& file);

}  // namespace bond::cli
