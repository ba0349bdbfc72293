#include "repl.hpp"

#include "interrupt_watcher.hpp"
#include "language_hints.hpp"
#include "line_editor.hpp"
#include "remote_trace.hpp"
#include "signal_pipe.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bond::cli {
namespace {

constexpr const char* kContinuationPrompt = ".... ";

constexpr const char* kHelp =
    "A line runs as statements (eval_block); definitions persist.\n"
    "In Python and JavaScript a line that is one expression shows its value, as python3\n"
    "and node do (None, undefined and null show nothing). PHP and Perl show values only\n"
    "for !EXPRESSION. In Perl each line is a block of its own: a `my $x` ends with its\n"
    "line; use `our $x` (or $x without my) for what later lines need.\n"
    "!EXPRESSION      prints the value of one expression as JSON (eval)\n"
    "a trailing \\     continues the input on the next line (so does unfinished code,\n"
    "                 where the language can tell)\n"
    ":help            this text\n"
    ":exports         the host functions the code can call\n"
    ":load FILE       runs a file's code here, its definitions kept\n"
    ":quit            ends the session (so does Ctrl+D; exit() in the code ends it too, with\n"
    "                 the code's exit status)\n"
    "Ctrl+C stops running code and keeps the interpreter's state; at the prompt it clears "
    "the input.";

std::string trimmed(const std::string& text) {
    auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

std::string expand_home(const std::string& path) {
    const char* home = std::getenv("HOME");
    if (path.rfind("~/", 0) == 0 && home != nullptr) return home + path.substr(1);
    return path;
}

class ReplLoop {
  public:
    ReplLoop(ReplTarget& target, TerminalOutput& output, SignalPipe& signals)
        : target_(target),
          output_(output),
          signals_(signals),
          hints_(hints_for(target.lang())),
          editor_(signals, history_file_for(target.lang())),
          prompt_(target.lang() + "> ") {}

    int run() {
        output_.write_notice(target_.lang() + " (" + target_.description() +
                             "). :help for help, Ctrl+D to quit.");
        std::string pending;  // the lines of an input not yet complete
        while (!ended_ && !signals_.ending()) {
            output_.finish_line();
            auto input = editor_.read(pending.empty() ? prompt_ : kContinuationPrompt);
            if (input.outcome == LineEditor::Outcome::Cancelled) {
                pending.clear();
                output_.write_notice("");
                continue;
            }
            if (input.outcome == LineEditor::Outcome::EndOfInput) {
                output_.write_notice("");
                break;
            }
            std::string line = input.line;
            if (pending.empty()) {
                std::string command = trimmed(line);
                if (command.empty()) continue;
                if (command[0] == ':') {
                    editor_.remember(line);
                    run_command(command);
                    continue;
                }
            }
            editor_.remember(line);
            if (!line.empty() && line.back() == '\\') {
                if (!hints_.backslash_continues_lines) line.pop_back();
                pending += line + "\n";
                continue;
            }
            pending += line;
            if (!run_input(pending, false)) continue;
            pending.clear();
        }
        // Input the end of stdin left unfinished runs as it is: its error says what is missing,
        // and the session's status says it failed.
        if (!pending.empty() && !ended_ && !signals_.ending() && !run_input(pending, true) &&
            !ended_)
            status_ = 1;
        if (!ended_) target_.close();
        return status_;
    }

  private:
    // Runs a complete input and returns true, or returns false when `input` is unfinished and
    // more lines are to come (a newline is then added to it). The last input (at the end of
    // stdin) runs as it is, and the result says whether it succeeded.
    bool run_input(std::string& input, bool last) {
        InputMode mode = input[0] == '!' ? InputMode::Expression : InputMode::Statements;
        std::string code = mode == InputMode::Expression ? input.substr(1) : input;
        if (trimmed(code).empty()) return true;
        if (mode == InputMode::Statements && starts_outside_code(hints_, code))
            code = file_as_block(hints_, code);  // "<?php echo 1;", as a file starts
        InputKind kind = InputKind::Statements;
        if (!guarded([&] { kind = classify_input(target_, hints_, code, mode); })) return !last;
        if (kind == InputKind::Incomplete && !last) {
            input += "\n";
            return false;
        }
        return guarded([&] {
                   if (mode == InputMode::Expression) {
                       output_.write_shown(target_.eval_shown(code));
                   } else if (kind == InputKind::Expression) {
                       // as Python's and node's REPLs: None and undefined show nothing
                       std::string shown = target_.eval_shown(code);
                       if (shown != "null") output_.write_shown(shown);
                   } else {
                       target_.eval_block(code, "");
                   }
               }) ||
               !last;
    }

    // Runs `operation` with Ctrl+C interrupting it; prints what went wrong. False when it failed.
    template <class F>
    bool guarded(F&& operation) {
        try {
            InterruptWatcher watcher(signals_, target_);
            operation();
            return true;
        } catch (const TerminatedException& error) {
            // exit(3) in the code ends the session quietly with its status, as in the language
            if (auto status = code_exit_status(error)) {
                ended_ = true;
                status_ = *status;
                return false;
            }
            return end_with(error.what());
        } catch (const TimeoutException& error) {
            return end_with(error.what());
        } catch (const BondException& error) {
            output_.write_error(error_text(error));
            if (!target_.alive()) end_with("the interpreter has ended");
            return false;
        } catch (const std::exception& error) {
            output_.write_error(std::string("bond: ") + error.what());
            return false;
        }
    }

    bool end_with(const std::string& message) {
        output_.write_error(message);
        ended_ = true;
        status_ = 1;
        return false;
    }

    void run_command(const std::string& command) {
        std::string name = command.substr(0, command.find_first_of(" \t"));
        std::string argument = trimmed(command.substr(name.size()));
        if (name == ":help") {
            output_.write_notice(kHelp);
        } else if (name == ":quit" || name == ":q") {
            ended_ = true;
            target_.close();
        } else if (name == ":exports") {
            guarded([&] {
                auto names = target_.exports();
                std::string text;
                for (const auto& export_name : names) text += export_name + "\n";
                output_.write_notice(names.empty() ? "(no host functions are exported to it)"
                                                   : text.substr(0, text.size() - 1));
            });
        } else if (name == ":load") {
            if (argument.empty()) return output_.write_error(":load wants a file: :load FILE");
            std::ifstream file(expand_home(argument), std::ios::binary);
            if (!file) return output_.write_error(":load: cannot read " + argument);
            std::ostringstream text;
            text << file.rdbuf();
            guarded([&] { target_.eval_block(file_as_block(hints_, text.str()), argument); });
        } else {
            output_.write_error("unknown command " + name + " (:help lists them)");
        }
    }

    ReplTarget& target_;
    TerminalOutput& output_;
    SignalPipe& signals_;
    const LanguageHints& hints_;
    LineEditor editor_;
    std::string prompt_;
    bool ended_ = false;
    int status_ = 0;
};

}  // namespace

int run_repl(ReplTarget& target, TerminalOutput& output, SignalPipe& signals) {
    return ReplLoop(target, output, signals).run();
}

}  // namespace bond::cli
