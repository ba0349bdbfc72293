#include "language_hints.hpp"

#include "repl_target.hpp"

#include <map>

namespace bond::cli {
namespace {

// Python's own REPL rule (codeop): a compound statement ends at a blank line.
constexpr const char* kPythonCheck =
    "(lambda source, mode: __import__('codeop').compile_command("
    "source, '<bond>', 'eval' if mode == 'expression' else 'single') is None)";

// The tokenizer parses without running anything; an unfinished input fails at the end of the
// file, or leaves a brace or a comment open. As in php -a, a statement is unfinished until its
// ";". An expression is checked as a return statement.
constexpr const char* kPhpCheck =
    "function ($source, $mode) { try { token_get_all($mode === 'expression' ? "
    "'<?php return ' . $source . \"\\n;\" : '<?php ' . $source, TOKEN_PARSE); return false; } "
    "catch (\\ParseError $error) { "
    "return (bool) preg_match('/end of file|^Unclosed|^Unterminated comment/', "
    "$error->getMessage()); } }";

// Compiling inside an anonymous sub runs nothing but BEGIN blocks and use, so inputs holding a
// BEGIN block are not checked (it would run twice). A call's name is followed by its argument
// list, hence "(sub {...})->".
constexpr const char* kPerlCheck =
    "(sub { my ($source) = @_; return 0 if $source =~ /\\bBEGIN\\b/; "
    "local ($@, $SIG{__WARN__}) = (undef, sub {}); "
    "eval \"return; sub {\\n$source\\n;}\"; "
    "return ($@ =~ /^Missing right curly|^Can't find string terminator/m) ? 1 : 0; })->";

// A vm.Script is compiled, not run, by its constructor.
constexpr const char* kJavaScriptCheck =
    "((source) => { try { new (require('vm').Script)(source); return false; } catch (error) { "
    "return error instanceof SyntaxError && "
    "/end of input|Unterminated template/.test(error.message); } })";

}  // namespace

const LanguageHints& hints_for(std::string_view lang) {
    static const std::map<std::string, LanguageHints, std::less<>> known{
        {"Python", {kPythonCheck, true, false}},
        {"PHP", {kPhpCheck, false, true}},
        {"Perl", {kPerlCheck, false, false}},
        {"JavaScript", {kJavaScriptCheck, false, false}},
    };
    static const LanguageHints none;
    auto found = known.find(lang);
    return found == known.end() ? none : found->second;
}

std::string file_as_block(const LanguageHints& hints, std::string text) {
    if (hints.files_start_outside_code) text.insert(0, "?>");
    return text;
}

bool input_is_incomplete(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode) {
    if (hints.incompleteness_check.empty()) return false;
    Value arguments =
        Value::array({source, mode == InputMode::Expression ? "expression" : "statements"});
    try {
        Value answer = target.call(hints.incompleteness_check, arguments);
        return answer.is_boolean() ? answer.get<bool>()
                                   : answer.is_number() && answer.get<double>() != 0;
    } catch (const Interrupted&) {
        throw;  // Ctrl+C while checking: the input is dropped, not run
    } catch (const RemoteException&) {
        return false;  // a syntax error the check reports: the input is complete, and wrong
    }
}

}  // namespace bond::cli
