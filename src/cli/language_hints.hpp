// What the command line knows about each language beyond what the library needs: how to ask the
// interpreter whether a piece of input is unfinished and how a source file becomes a block of
// statements, from the language's entry of drivers/registry.json. (The interpreter's version is the
// driver's, Bond::version().)
#pragma once
#include <string>
#include <string_view>

namespace bond::cli {

class ReplTarget;

// How an input is to be run: statements (eval_block) or one expression (eval).
enum class InputMode { Statements, Expression };

struct LanguageHints {
    // A callable expression of the language taking (source, mode) with mode "statements" or
    // "expression", true when the source is a valid beginning that more lines could complete;
    // empty when the language offers no way to tell.
    std::string incompleteness_check;
    // True when a backslash at the end of a line is the language's own line continuation, so
    // the REPL keeps it in the code instead of removing it (Python).
    bool backslash_continues_lines = false;
    // True when a source file starts outside code and needs "?>" in front to run as a block
    // (PHP: a file begins with "<?php", which eval() refuses).
    bool files_start_outside_code = false;
};

// The hints for a canonical language name ("Python", ...); empty hints for a language the
// command line knows nothing about.
const LanguageHints& hints_for(std::string_view lang);

// A source file's text as a block eval_block runs the way the interpreter runs the file.
std::string file_as_block(const LanguageHints& hints, std::string text);

// Asks the interpreter whether `source` is unfinished; false when the language cannot tell or
// the check itself failed (the input then runs and reports its own error).
bool input_is_incomplete(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode);

}  // namespace bond::cli
