#include "remote_trace.hpp"

#include "bond/driver_registry.hpp"

#include <functional>
#include <map>
#include <vector>

namespace bond::cli {
namespace {

using Stack = std::vector<StackFrame>;  // innermost frame first

// Python: outermost first, under "Traceback (most recent call last):"; a syntax error is its
// place alone.
std::string python_trace(const Stack& stack, const std::string& message) {
    std::string text;
    if (!stack.front().function.empty()) text += "Traceback (most recent call last):\n";
    for (auto frame = stack.rbegin(); frame != stack.rend(); ++frame) {
        text += "  File \"" + frame->file + "\", line " + std::to_string(frame->line);
        if (!frame->function.empty()) text += ", in " + frame->function;
        text += "\n";
    }
    return text + message;
}

// Perl: die's message says where ("boom at die.pl line 2."), as perl prints it.
std::string perl_trace(const Stack&, const std::string& message) {
    return message;
}

// PHP: "Class: message in file:line", then "Stack trace:" with each call's place, innermost
// first, ending at {main}.
std::string php_trace(const Stack& stack, const std::string& message) {
    std::string text = message + " in " + stack.front().file + ":" +
                       std::to_string(stack.front().line) + "\nStack trace:";
    for (std::size_t i = 1; i < stack.size(); ++i)
        text += "\n#" + std::to_string(i - 1) + " " + stack[i].file + "(" +
                std::to_string(stack[i].line) + "): " + stack[i - 1].function + "()";
    return text + "\n#" + std::to_string(stack.size() - 1) + " {main}";
}

// Node: the message, then "    at function (file:line)" innermost first; a syntax error's place
// first, as "file:line".
std::string javascript_trace(const Stack& stack, const std::string& message) {
    std::string text;
    if (stack.front().function.empty())
        text += stack.front().file + ":" + std::to_string(stack.front().line) + "\n";
    text += message;
    for (const auto& frame : stack) {
        if (frame.function.empty()) continue;
        std::string place = frame.file + ":" + std::to_string(frame.line);
        text += "\n    at " +
                (frame.function == "<anonymous>" ? place : frame.function + " (" + place + ")");
    }
    return text;
}

struct TraceStyle {
    std::string no_file;  // the driver's name for code sent without a file (docs/protocol.md)
    std::function<std::string(const Stack&, const std::string&)> format;
};

// The style of the language's entry of drivers/registry.json ("stack_trace"), if it names one.
const TraceStyle* style_of(const std::string& lang) {
    static const std::map<std::string, TraceStyle> styles{
        {"python", {"<string>", python_trace}},
        {"php", {"Command line code", php_trace}},
        {"perl", {"-e", perl_trace}},
        {"javascript", {"[eval]", javascript_trace}},
    };
    const detail::DriverSpec* driver = detail::find_driver(lang);
    if (driver == nullptr) return nullptr;
    auto found = styles.find(driver->entry.value("stack_trace", ""));
    return found == styles.end() ? nullptr : &found->second;
}

}  // namespace

std::string error_text(const BondException& error) {
    const auto* remote = dynamic_cast<const RemoteException*>(&error);
    if (remote == nullptr || remote->stack().empty()) return error.what();
    const TraceStyle* style = style_of(error.lang());
    if (style == nullptr) return error.what();
    bool from_a_file = false;
    for (const auto& frame : remote->stack()) from_a_file |= frame.file != style->no_file;
    return from_a_file ? style->format(remote->stack(), error.message()) : error.what();
}

std::optional<int> code_exit_status(const TerminatedException& error) {
    constexpr int kDriverFault = 70;  // EX_SOFTWARE: a driver's end on a fault of its own
    auto status = error.exit_status();
    if (status && *status == kDriverFault) return std::nullopt;
    return status;
}

}  // namespace bond::cli
