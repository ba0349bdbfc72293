// The co-process's pipes as a stream of lines: lines written to its stdin, lines read from its
// stdout, its stderr handed on in chunks as it arrives. All waiting happens in read_line(), which
// runs the bond's io_context until a line, end of file or the deadline; queued writes and stderr
// make progress meanwhile, so neither side can deadlock on a full pipe.
// Handlers capture `this`: the owner must not run the io_context after destroying the channel.
#pragma once

#include "child_process.hpp"
#include "line_buffer.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

namespace bond::detail {

class PipeChannel {
  public:
    using StderrSink = std::function<void(std::string_view)>;
    // Woken: wake() was called; the caller's deadlines may have changed.
    enum class ReadStatus { Line, Closed, TimedOut, TooLong, Woken };

    // Starts reading stderr at once; `max_line` bounds one incoming line (without its '\n').
    PipeChannel(boost::asio::io_context& io, ChildProcess& child, std::size_t max_line,
                StderrSink on_stderr);

    // Queues `line` (ending in '\n') for the co-process's stdin.
    void send(std::string line);
    ReadStatus read_line(std::string& line, Clock::time_point deadline);
    // Makes the current or next read_line() return Woken; called from a handler of the io_context.
    void wake() { woken_ = true; }
    // Runs until stderr reaches end of file or `deadline`: the last words of a dying process.
    void drain_stderr(Clock::time_point deadline);

  private:
    void read_stdout();
    void read_stderr();
    void write_next();
    void arm_deadline(Clock::time_point deadline);

    boost::asio::io_context& io_;
    ChildProcess& child_;
    StderrSink on_stderr_;

    LineBuffer input_;  // bytes read from stdout, not yet taken as lines
    std::array<char, 65536> stdout_chunk_;
    std::size_t stdout_received_ = 0;  // bytes read from stdout so far
    bool stdout_reading_ = false, stdout_closed_ = false;

    std::array<char, 4096> stderr_chunk_;
    bool stderr_closed_ = false;

    std::deque<std::string> outgoing_;
    bool writing_ = false, stdin_broken_ = false;

    boost::asio::steady_timer deadline_timer_;
    unsigned wait_generation_ = 0;  // a timer handler of an earlier wait must not end this one
    bool timed_out_ = false;
    bool woken_ = false;
};

}  // namespace bond::detail
