// An error of the remote code as its language would print it: Python's traceback, Perl's
// message, PHP's "Stack trace:", Node's stack, from RemoteException::stack(). Code typed on the
// command line (all its frames in the language's name for a string of code) gets the one line.
#pragma once
#include <bond/errors.hpp>

#include <optional>
#include <string>

namespace bond::cli {

// What the REPL and the one-shot commands print for `error`: what() ("RemoteException[Python]:
// ValueError: boom"), or the language's trace when the error comes from a file.
std::string error_text(const BondException& error);

// The status the code's own exit gave (exit(3): 3), with which the REPL and the one-shot commands
// end quietly; none when the interpreter did not exit by itself, or exited with the status of a
// driver's fault (70, docs/protocol.md), which is reported as any other end.
std::optional<int> code_exit_status(const TerminatedException& error);

}  // namespace bond::cli
