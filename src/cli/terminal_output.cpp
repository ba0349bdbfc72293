#include "terminal_output.hpp"

#include "protocol/jsonrpc.hpp"

#include <unistd.h>
#include <cstdlib>
#include <cstring>

namespace bond::cli {
namespace {

constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

bool uses_colour(std::FILE* stream) {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour != nullptr && *no_colour != '\0') return false;
    const char* term = std::getenv("TERM");
    if (term == nullptr || std::strcmp(term, "dumb") == 0) return false;
    return ::isatty(::fileno(stream)) == 1;
}

}  // namespace

TerminalOutput::TerminalOutput()
    : colour_stdout_(uses_colour(stdout)), colour_stderr_(uses_colour(stderr)) {}

void TerminalOutput::write(std::FILE* stream, std::string_view data, const char* colour) {
    if (data.empty()) return;
    std::lock_guard lock(mutex_);
    // Both streams share the terminal: what stdout holds must come out before stderr's text.
    std::fflush(stream == stderr ? stdout : stderr);
    if (colour != nullptr) std::fputs(colour, stream);
    std::fwrite(data.data(), 1, data.size(), stream);
    if (colour != nullptr) std::fputs(kReset, stream);
    std::fflush(stream);
    line_open_ = data.back() != '\n';
}

void TerminalOutput::write_output(Channel channel, std::string_view data) {
    if (channel == Channel::Stderr)
        write(stderr, data, colour_stderr_ ? kRed : nullptr);
    else
        write(stdout, data, nullptr);
}

void TerminalOutput::write_value(const Value& value) {
    finish_line();
    write(stdout, value_as_json(value) + "\n", nullptr);
}

void TerminalOutput::write_shown(const std::string& text) {
    finish_line();
    write(stdout, text + "\n", nullptr);
}

void TerminalOutput::write_error(std::string_view text) {
    finish_line();
    write(stderr, std::string(text) + "\n", colour_stderr_ ? kRed : nullptr);
}

void TerminalOutput::write_notice(std::string_view text) {
    finish_line();
    write(stderr, std::string(text) + "\n", nullptr);
}

void TerminalOutput::finish_line() {
    bool open;
    {
        std::lock_guard lock(mutex_);
        open = line_open_;
    }
    if (open) write(stdout, "\n", nullptr);
}

std::function<void(Channel, std::string_view)> TerminalOutput::output_sink() {
    return [this](Channel channel, std::string_view data) { write_output(channel, data); };
}

std::string value_as_json(const Value& value) {
    // Strings from the interpreter are valid UTF-8 (the protocol checks them); replace guards
    // against anything that is not.
    return detail::encode_bytes(value).dump(-1, ' ', false, Value::error_handler_t::replace);
}

}  // namespace bond::cli
