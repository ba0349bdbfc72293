// The interactive session (docs/cli.md, bond repl): lines run with eval_block, "!" lines with
// eval, continuation with "\" or while the language says the input is unfinished, ":" commands,
// Ctrl+C interrupting the running code, Ctrl+D ending the session.
#pragma once
#include "repl_target.hpp"
#include "terminal_output.hpp"

namespace bond::cli {

class SignalPipe;

// Runs the session until Ctrl+D, :quit, the end of stdin, or the interpreter's end; closes the
// target. The exit status of the command: 0, or 1 when the interpreter ended underneath.
int run_repl(ReplTarget& target, TerminalOutput& output, SignalPipe& signals);

}  // namespace bond::cli
