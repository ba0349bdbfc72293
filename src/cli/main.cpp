// bond: the command line (docs/cli.md). An interactive REPL into a new bond or one a daemon
// holds, one-shot evaluation, and the daemon itself in the foreground.
#include "bond/driver_registry.hpp"
#include "bond/log.hpp"
#include "daemon/daemon_command_line.hpp"
#include "daemon/default_socket_path.hpp"
#include "daemon_target.hpp"
#include "drivers_command.hpp"
#include "local_target.hpp"
#include "one_shot.hpp"
#include "protocol/json_parser.hpp"
#include "protocol/jsonrpc.hpp"
#include "repl.hpp"
#include "signal_pipe.hpp"
#include "terminal_output.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

namespace {

constexpr int kUsageError = 2;
constexpr const char* kVersion = "bond " BOND_VERSION;

// --version, --help (CLI11's) and --log-level on a sub-command.
void add_common_options(CLI::App& command, std::string& log_level) {
    command.set_version_flag("--version", kVersion);
    command
        .add_option("--log-level", log_level,
                    "the library's log on stderr: trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
}

// A usage error (exit status 2) for a language this build does not know.
std::string check_language(const std::string& lang) {
    if (bond::detail::find_driver(lang) != nullptr) return {};
    return "unknown language '" + lang + "' (known: " + bond::detail::known_language_names() + ")";
}

bond::Value parse_json_arguments(const std::vector<std::string>& texts) {
    bond::Value arguments = bond::Value::array();
    for (const auto& text : texts) {
        try {
            arguments.push_back(bond::detail::parse_json(text));
        } catch (const bond::detail::ProtocolError&) {
            throw CLI::ValidationError("JSON-ARG", "'" + text +
                                                       "' is not JSON (a string needs its quotes: "
                                                       "'\"text\"')");
        }
    }
    return arguments;
}

}  // namespace

// The whole command; main() only adds a last catch.
static int run_command_line(int argc, char** argv) {
    CLI::App app{"bond: call " + bond::detail::known_language_names() +
                 " from the command line, in a REPL, or through the bond daemon (docs/cli.md)"};
    app.set_version_flag("--version", kVersion);
    app.require_subcommand(1, 1);
    std::string log_level;  // each sub-command's option: serve's is the daemon's own

    bond::cli::OneShot shot;

    auto* repl = app.add_subcommand("repl", "an interactive session with a new bond");
    repl->add_option("LANG", shot.lang,
                     "one of " + bond::detail::known_language_names() + " (or an alias)")
        ->required()
        ->check(check_language);
    bond::cli::add_interpreter_options(*repl, shot.interpreter);

    std::string code;
    auto* eval = app.add_subcommand("eval", "print the value of one expression as JSON");
    eval->add_option("LANG", shot.lang, "the language")->required()->check(check_language);
    eval->add_option("CODE", code, "an expression of the language")->required();
    bond::cli::add_interpreter_options(*eval, shot.interpreter);

    std::string file;
    std::vector<std::string> script_arguments;
    auto* exec = app.add_subcommand("exec", "run a file (or stdin: -) as statements");
    exec->add_option("LANG", shot.lang, "the language")->required()->check(check_language);
    exec->add_option("FILE", file, "the file, or - for stdin")->required();
    exec->add_option("ARGS", script_arguments,
                     "the script's arguments (sys.argv, @ARGV, $argv, process.argv); those "
                     "starting with - after --");
    bond::cli::add_interpreter_options(*exec, shot.interpreter);

    std::string function;
    auto* call = app.add_subcommand("call", "call a function and print its value as JSON");
    call->add_option("LANG", shot.lang, "the language")->required()->check(check_language);
    call->add_option("NAME", function, "any callable expression: strtoupper, str.upper, ...")
        ->required();
    // The arguments are what CLI11 leaves (remaining()): as a declared option it would split
    // "[1, 2]" into a list, and take -5 for an option.
    call->allow_extras();
    call->footer("JSON-ARG...: the arguments, each one JSON value ('\"text\"', 42, '[1, 2]')");
    call->add_option("--load", shot.loads, "a file run first, e.g. the function's definition")
        ->check(CLI::ExistingFile);
    bond::cli::add_interpreter_options(*call, shot.interpreter);

    std::string name, socket;
    auto* attach = app.add_subcommand(
        "attach", "the REPL on a named bond that a running daemon holds (bond serve, bondd)");
    attach->add_option("NAME", name, "the bond's name (open's name parameter)")->required();
    attach->add_option("--socket", socket, "the daemon's Unix socket (default: bondd's default)");

    bool as_json = false;
    auto* drivers = app.add_subcommand(
        "drivers", "the languages, and whether each interpreter is found here, with its version");
    drivers->add_flag("--json", as_json, "as a JSON array");

    auto* serve = app.add_subcommand("serve", "run the daemon (bondd) in the foreground");
    bond::daemon::DaemonCommandLine daemon;
    daemon.add_to(*serve);
    serve->set_version_flag("--version", kVersion);

    for (auto* command : {repl, eval, exec, call, attach, drivers})
        add_common_options(*command, log_level);

    // What follows "--" is the script's (bond exec); CLI11 2.1 refuses it once ARGS has taken
    // a value before the "--", so it is taken off here.
    std::vector<std::string> after_double_dash;
    if (argc > 1 && std::string_view(argv[1]) == "exec") {
        for (int at = 2; at < argc; ++at) {
            if (std::string_view(argv[at]) != "--") continue;
            after_double_dash.assign(argv + at + 1, argv + argc);
            argc = at;
            break;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        int status = app.exit(error);
        return status == 0 ? 0 : kUsageError;
    }

    if (serve->parsed()) return daemon.run();
    script_arguments.insert(script_arguments.end(), after_double_dash.begin(),
                            after_double_dash.end());
    // Remote output and the interpreter's death are errors to report, not signals that kill.
    std::signal(SIGPIPE, SIG_IGN);
    if (!log_level.empty()) bond::detail::log().set_level(spdlog::level::from_str(log_level));

    bond::cli::TerminalOutput output;
    try {
        if (drivers->parsed()) return bond::cli::run_drivers(as_json);
        bond::Value arguments;
        if (call->parsed()) {
            try {
                arguments = parse_json_arguments(call->remaining());
            } catch (const CLI::ParseError& error) {
                return app.exit(error) == 0 ? 0 : kUsageError;
            }
        }
        bond::cli::SignalPipe signals;
        if (eval->parsed()) return bond::cli::run_eval(shot, code, output, signals);
        if (exec->parsed())
            return bond::cli::run_exec(shot, file, script_arguments, output, signals);
        if (call->parsed()) return bond::cli::run_call(shot, function, arguments, output, signals);
        if (repl->parsed()) {
            bond::Options options = bond::cli::to_options(shot.interpreter);
            options.on_output = output.output_sink();
            bond::cli::LocalTarget target(shot.lang, std::move(options));
            return bond::cli::run_repl(target, output, signals);
        }
        bond::cli::DaemonTarget target(
            socket.empty() ? bond::daemon::default_socket_path() : std::filesystem::path(socket),
            name, output.output_sink());
        return bond::cli::run_repl(target, output, signals);
    } catch (const bond::BondException& error) {
        output.write_error(error.what());
        return 1;
    } catch (const std::exception& error) {
        output.write_error(std::string("bond: ") + error.what());
        return 1;
    }
}

int main(int argc, char** argv) {
    try {
        return run_command_line(argc, argv);
    } catch (const std::exception& error) {  // what the commands do not answer (bad_alloc)
        std::cerr << "bond: " << error.what() << '\n';
        return 1;
    }
}
