// The co-process's pipes as a stream of lines: lines written to its stdin, lines read from its
// stdout, its stderr handed on in chunks as it arrives. All waiting happens in read_line(), which
// runs the bond's io_context until a line, end of file or the deadline; queued writes and stderr
// make progress meanwhile, so neither side can deadlock on a full pipe.
// A call is the hot path: it costs the host a write, one epoll_wait and a read. A line that fits
// in the pipe is written at once, with no handler to run; a read stays pending on stdout; the
// deadline timer is set again only when a wait needs an earlier expiry than the one pending.
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

    // Starts reading stdout and stderr at once; `max_line` bounds one incoming line (without its
    // '\n').
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
    // Keeps a read pending on stdout for as long as it is open.
    void read_stdout();
    void read_stderr();
    void write_next();
    // The timer serves the deadline of the wait under way (deadline_): see on_timer().
    void arm_deadline(Clock::time_point deadline);
    void start_timer(Clock::time_point expiry);
    void on_timer(const boost::system::error_code& error, unsigned generation);

    boost::asio::io_context& io_;
    ChildProcess& child_;
    StderrSink on_stderr_;

    LineBuffer input_;  // bytes read from stdout, not yet taken as lines
    std::array<char, 65536> stdout_chunk_;
    std::size_t stdout_received_ = 0;  // bytes read from stdout so far
    bool stdout_closed_ = false;

    std::array<char, 4096> stderr_chunk_;
    bool stderr_closed_ = false;

    std::deque<std::string> outgoing_;
    std::size_t front_written_ = 0;  // bytes of outgoing_.front() already written
    bool writing_ = false, stdin_broken_ = false;

    boost::asio::steady_timer deadline_timer_;
    Clock::time_point deadline_ = Clock::time_point::max();  // of the wait under way
    bool waiting_ = false;                                   // read_line or drain_stderr runs
    Clock::time_point timer_expiry_;                         // when the pending timer fires
    bool timer_pending_ = false;
    unsigned timer_generation_ = 0;  // a cancelled timer's handler must not touch the new one
    bool timed_out_ = false;
    bool woken_ = false;
};

}  // namespace bond::detail
