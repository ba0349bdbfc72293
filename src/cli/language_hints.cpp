#include "language_hints.hpp"

#include "repl_target.hpp"

#include <map>

namespace bond::cli {
namespace {

// Python's own REPL rule (codeop): a compound statement ends at a blank line. A complete input
// that is one expression statement is shown, as Python's REPL shows it.
constexpr const char* kPythonCheck =
    "(lambda source, mode: (lambda ast, codeop: 1 if codeop.compile_command("
    "source, '<bond>', 'eval' if mode == 'expression' else 'single') is None else "
    "2 if mode == 'statements' and [type(node) for node in ast.parse(source).body] == [ast.Expr] "
    "else 0)(__import__('ast'), __import__('codeop')))";

// sys.argv as `python3 FILE ARGS...` sets it, and __file__ (absolute, as Python 3.9 and later
// give the main script's; "<stdin>" for stdin, whose name is "-").
constexpr const char* kPythonProgram =
    "(lambda name, path, args: (__import__('sys').argv.__setitem__(slice(None), [name, *args]), "
    "globals().__setitem__('__file__', path or '<stdin>'), None)[-1])";

// The tokenizer parses without running anything; an unfinished input fails at the end of the
// file, or leaves a brace or a comment open. As in php -a, a statement is unfinished until its
// ";". An expression is checked as a return statement.
constexpr const char* kPhpCheck =
    "function ($source, $mode) { try { token_get_all($mode === 'expression' ? "
    "'<?php return ' . $source . \"\\n;\" : '<?php ' . $source, TOKEN_PARSE); return false; } "
    "catch (\\ParseError $error) { "
    "return (bool) preg_match('/unexpected end of file|^Unclosed|^Unterminated comment/', "
    "$error->getMessage()); } }";

// $argv and $argc (global, as `php FILE ARGS...` sets them) and their $_SERVER copies; PHP names
// stdin "Standard input code". (__FILE__ of code run by eval() is not the file's.)
constexpr const char* kPhpProgram =
    "function ($name, $path, $args) { $argv = array_merge([$name === '-' ? "
    "'Standard input code' : $name], $args); $GLOBALS['argv'] = $_SERVER['argv'] = $argv; "
    "$GLOBALS['argc'] = $_SERVER['argc'] = count($argv); "
    "$_SERVER['SCRIPT_FILENAME'] = $_SERVER['PHP_SELF'] = $_SERVER['SCRIPT_NAME'] = $argv[0]; }";

// Compiling inside an anonymous sub runs nothing but BEGIN blocks and use, so inputs holding a
// BEGIN block are not checked (it would run twice). A call's name is followed by its argument
// list, hence "(sub {...})->".
constexpr const char* kPerlCheck =
    "(sub { my ($source) = @_; return 0 if $source =~ /\\bBEGIN\\b/; "
    "local ($@, $SIG{__WARN__}) = (undef, sub {}); "
    "eval \"return; sub {\\n$source\\n;}\"; "
    "return ($@ =~ /^Missing right curly|^Can't find string terminator/m) ? 1 : 0; })->";

// $0 and @ARGV as `perl FILE ARGS...` sets them (stdin's name is "-", as Perl's).
constexpr const char* kPerlProgram =
    "(sub { my ($name, $path, @args) = @_; $0 = $name; "
    "@ARGV = @{$args[0]}; return; })->";

// A vm.Script is compiled, not run, by its constructor. As in node's REPL, a complete input that
// is one expression statement is shown (not one starting with "{", "function" or "class", which
// node reads as statements).
constexpr const char* kJavaScriptCheck =
    "((source, mode) => { const vm = require('vm'); try { new vm.Script(source); } "
    "catch (error) { return error instanceof SyntaxError && "
    "/end of input|Unterminated template/.test(error.message) ? 1 : 0; } "
    "if (mode !== 'statements' || /^\\s*(\\{|function\\b|class\\b|async\\s+function\\b)/"
    ".test(source)) return 0; "
    "try { new vm.Script('(' + source.replace(/;\\s*$/, '') + '\\n)'); return 2; } "
    "catch (error) { return 0; } })";

// process.argv as `node FILE ARGS...` sets it, [node, FILE, ARGS...] with the file's absolute
// path, and __filename and __dirname (for stdin, as node names it: "-" and "[stdin]").
constexpr const char* kJavaScriptProgram =
    "((name, path, args) => { const paths = require('path'); "
    "process.argv.splice(1, process.argv.length - 1, path || name, ...args); "
    "globalThis.__filename = path || '[stdin]'; "
    "globalThis.__dirname = path ? paths.dirname(path) : '.'; })";

}  // namespace

const LanguageHints& hints_for(std::string_view lang) {
    static const std::map<std::string, LanguageHints, std::less<>> known{
        {"Python", {kPythonCheck, kPythonProgram, true, false}},
        {"PHP", {kPhpCheck, kPhpProgram, false, true}},
        {"Perl", {kPerlCheck, kPerlProgram, false, false}},
        {"JavaScript", {kJavaScriptCheck, kJavaScriptProgram, false, false}},
    };
    static const LanguageHints none;
    auto found = known.find(lang);
    return found == known.end() ? none : found->second;
}

std::string file_as_block(const LanguageHints& hints, std::string text) {
    if (hints.files_start_outside_code) text.insert(0, "?>");
    return text;
}

bool starts_outside_code(const LanguageHints& hints, const std::string& input) {
    return hints.files_start_outside_code && input.rfind("<?php", 0) == 0;
}

InputKind classify_input(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode) {
    if (hints.incompleteness_check.empty()) return InputKind::Statements;
    Value arguments =
        Value::array({source, mode == InputMode::Expression ? "expression" : "statements"});
    try {
        Value answer = target.call(hints.incompleteness_check, arguments);
        double kind = answer.is_boolean()  ? answer.get<bool>()
                      : answer.is_number() ? answer.get<double>()
                                           : 0;
        return kind == 1                                    ? InputKind::Incomplete
               : kind == 2 && mode == InputMode::Statements ? InputKind::Expression
                                                            : InputKind::Statements;
    } catch (const Interrupted&) {
        throw;  // Ctrl+C while checking: the input is dropped, not run
    } catch (const RemoteException&) {
        return InputKind::Statements;  // a syntax error the check reports: complete, and wrong
    }
}

void set_program(ReplTarget& target, const LanguageHints& hints, const std::string& name,
                 const std::string& path, const std::vector<std::string>& arguments) {
    if (hints.program_setter.empty()) return;
    target.call(hints.program_setter, Value::array({name, path, arguments}));
}

}  // namespace bond::cli
