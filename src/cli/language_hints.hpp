// What the command line knows about each language beyond what the library needs: how to ask the
// interpreter whether a piece of input is unfinished and how a source file becomes a block of
// statements, from the language's entry of drivers/registry.json. (The interpreter's version is the
// driver's, Bond::version().)
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace bond::cli {

class ReplTarget;

// How an input is to be run: statements (eval_block) or one expression (eval).
enum class InputMode { Statements, Expression };

// What an input of the REPL is: unfinished, statements to run, or (Python, JavaScript) one
// expression statement whose value the REPL shows, as the language's own REPL does.
enum class InputKind { Incomplete, Statements, Expression };

struct LanguageHints {
    // A callable expression of the language taking (source, mode) with mode "statements" or
    // "expression": 1 (or true) when the source is a valid beginning that more lines could
    // complete, 2 when it is complete statements that are one expression statement, which the
    // REPL shows, else 0 (or false); empty when the language offers no way to tell.
    std::string incompleteness_check;
    // A callable expression taking (name, path, arguments) that sets what the language's own
    // command sets for `LANG FILE ARGS...`: the program's arguments (sys.argv, @ARGV, $argv,
    // process.argv) and file name (__file__, $0, __filename). `name` is the file as typed ("-"
    // for stdin), `path` its absolute path ("" for stdin), `arguments` an array of strings.
    std::string program_setter;
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

// True when a REPL input is the start of a file rather than code (PHP: "<?php ..."), to be run
// as file_as_block() makes it.
bool starts_outside_code(const LanguageHints& hints, const std::string& input);

// Asks the interpreter what `source` is; Statements when the language cannot tell or the check
// itself failed (the input then runs and reports its own error). Expression only for
// InputMode::Statements.
InputKind classify_input(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode);

// Sets the program's arguments and file name, as `LANG FILE ARGS...` would (bond exec).
void set_program(ReplTarget& target, const LanguageHints& hints, const std::string& name,
                 const std::string& path, const std::vector<std::string>& arguments);

}  // namespace bond::cli
