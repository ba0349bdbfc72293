// Where the REPL and the one-shot commands write: remote output as it arrives (stderr in red on
// a colour terminal), values as JSON, errors. Colour is used when the stream is a terminal other
// than "dumb" and NO_COLOR is unset or empty (https://no-color.org).
#pragma once
#include <bond/object.hpp>
#include <bond/options.hpp>
#include <bond/value.hpp>

#include <cstdio>
#include <functional>
#include <mutex>
#include <string_view>

namespace bond::cli {

class TerminalOutput {
  public:
    TerminalOutput();
    // Remote output, written as it comes; may be called from any thread.
    void write_output(Channel channel, std::string_view data);
    // A value as one line of JSON on stdout (bytes as {"$bytes": "<base64>"}).
    void write_value(const Value& value);
    // A value as JSON, each object in it as <PHP object Invoice #3>.
    // A value as ReplTarget::eval_shown gives it.
    void write_shown(const std::string& text);
    // An error or a notice of the session on stderr, on a line of its own.
    void write_error(std::string_view text);
    void write_notice(std::string_view text);
    // Ends a line of remote output left open, so that the prompt starts a line.
    void finish_line();
    // The library's on_output for a bond whose output goes here.
    std::function<void(Channel, std::string_view)> output_sink();

  private:
    void write(std::FILE* stream, std::string_view data, const char* colour);

    std::mutex mutex_;
    bool colour_stdout_;
    bool colour_stderr_;
    bool line_open_ = false;  // the last byte written was not a newline
};

// A value as the one line of JSON the command line prints.
std::string value_as_json(const Value& value);

}  // namespace bond::cli
