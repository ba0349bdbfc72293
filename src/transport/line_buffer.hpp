// Bytes as they arrive from a stream, cut into lines at '\n': the framing of the bond protocol
// (a co-process's stdout) and of the daemon's clients alike. A line longer than the limit is
// reported instead of growing the buffer without bound.
#pragma once

#include <cstddef>
#include <string>

namespace bond::detail {

class LineBuffer {
  public:
    enum class Taken { Line, Nothing, TooLong };

    // `max_line` bounds one line, without its '\n'.
    explicit LineBuffer(std::size_t max_line) : max_line_(max_line) {}
    std::size_t max_line() const { return max_line_; }

    void append(const char* data, std::size_t size);
    // The next complete line (without its '\n') into `line`; TooLong when the line being
    // received is longer than the limit, whether or not its end has arrived.
    Taken take(std::string& line);
    // Drops the line being received up to its '\n', including bytes that have not arrived yet:
    // after a TooLong, a reader that goes on resumes at the next line.
    void skip_line();
    // Nothing is held: no line, nor part of one, nor one being skipped.
    bool empty() const { return consumed_ == input_.size() && !skipping_; }

  private:
    std::size_t max_line_;
    std::string input_;         // bytes received, not yet taken as lines
    std::size_t consumed_ = 0;  // input_[0, consumed_) has been taken
    std::size_t scanned_ = 0;   // input_[consumed_, scanned_) holds no '\n'
    bool skipping_ = false;     // dropping bytes up to the next '\n'
};

}  // namespace bond::detail
