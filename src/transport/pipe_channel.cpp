#include "pipe_channel.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace bond::detail {
namespace {

bool would_block(const boost::system::error_code& error) {
    return error == boost::asio::error::would_block || error == boost::asio::error::try_again;
}

}  // namespace

PipeChannel::PipeChannel(boost::asio::io_context& io, ChildProcess& child, std::size_t max_line,
                         StderrSink on_stderr)
    : io_(io),
      child_(child),
      on_stderr_(std::move(on_stderr)),
      input_(max_line),
      deadline_timer_(io) {
    // A write of our own (not Asio's) must not block: see send().
    child_.stdin_pipe().non_blocking(true);
    read_stdout();
    read_stderr();
}

void PipeChannel::send(std::string line) {
    if (stdin_broken_) return;  // the reader is gone; the missing reply will tell
    if (!writing_) {
        // Most lines fit in the pipe: written here and now, with no handler to run later.
        boost::system::error_code error;
        std::size_t written = child_.stdin_pipe().write_some(boost::asio::buffer(line), error);
        if (error && !would_block(error)) {
            stdin_broken_ = true;
            return;
        }
        if (written == line.size()) return;
        front_written_ = written;
    }
    outgoing_.push_back(std::move(line));
    if (!writing_) write_next();
}

void PipeChannel::write_next() {
    writing_ = true;
    const std::string& line = outgoing_.front();
    boost::asio::async_write(
        child_.stdin_pipe(),
        boost::asio::buffer(line.data() + front_written_, line.size() - front_written_),
        [this](const boost::system::error_code& error, std::size_t) {
            front_written_ = 0;
            if (error) {
                stdin_broken_ = true;
                outgoing_.clear();
            } else {
                outgoing_.pop_front();
            }
            writing_ = false;
            if (!outgoing_.empty()) write_next();
        });
}

void PipeChannel::read_stdout() {
    // After a read that emptied the pipe, Asio tries no speculative read: the next read waits for
    // epoll, and costs no system call before it.
    child_.stdout_pipe().async_read_some(
        boost::asio::buffer(stdout_chunk_),
        [this](const boost::system::error_code& error, std::size_t size) {
            if (error) {
                stdout_closed_ = true;  // end of file, or the pipe was closed
                return;
            }
            stdout_received_ += size;
            input_.append(stdout_chunk_.data(), size);
            read_stdout();
        });
}

void PipeChannel::read_stderr() {
    child_.stderr_pipe().async_read_some(
        boost::asio::buffer(stderr_chunk_),
        [this](const boost::system::error_code& error, std::size_t size) {
            if (error) {
                stderr_closed_ = true;
                return;
            }
            on_stderr_(std::string_view(stderr_chunk_.data(), size));
            read_stderr();
        });
}

void PipeChannel::arm_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    timed_out_ = false;
    // A timer set for later than this deadline would fire too late; one set for earlier fires in
    // time, and its handler sets it again for the rest. Calls with the same timeout thus set the
    // timer about once per timeout, not once per call.
    if (!timer_pending_ || timer_expiry_ > deadline) start_timer(deadline);
}

void PipeChannel::start_timer(Clock::time_point expiry) {
    timer_pending_ = true;
    timer_expiry_ = expiry;
    deadline_timer_.expires_at(expiry);  // a pending wait ends with operation_aborted
    deadline_timer_.async_wait(
        [this, generation = ++timer_generation_](const boost::system::error_code& error) {
            on_timer(error, generation);
        });
}

void PipeChannel::on_timer(const boost::system::error_code& error, unsigned generation) {
    if (generation != timer_generation_) return;  // replaced by a later start_timer()
    timer_pending_ = false;
    if (error || !waiting_) return;
    if (Clock::now() >= deadline_)
        timed_out_ = true;
    else
        start_timer(deadline_);
}

PipeChannel::ReadStatus PipeChannel::read_line(std::string& line, Clock::time_point deadline) {
    timed_out_ = false;
    bool timer_armed = false;
    struct Waiting {
        bool& flag;
        ~Waiting() { flag = false; }
    } waiting{waiting_};
    for (;;) {
        if (woken_) {
            woken_ = false;
            return ReadStatus::Woken;
        }
        switch (input_.take(line)) {
            case LineBuffer::Taken::Line:
                return ReadStatus::Line;
            case LineBuffer::Taken::TooLong:
                return ReadStatus::TooLong;
            case LineBuffer::Taken::Nothing:
                break;
        }
        if (stdout_closed_) return ReadStatus::Closed;
        if (timed_out_) return ReadStatus::TimedOut;
        if (child_.exited()) {
            // Something the process left behind (a forked child) may hold stdout open forever:
            // take what is in the pipe now, and then the stream has ended.
            std::size_t received = stdout_received_;
            if (io_.stopped()) io_.restart();
            io_.poll();
            if (stdout_received_ == received && !stdout_closed_) return ReadStatus::Closed;
            continue;
        }
        if (!timer_armed) {
            timer_armed = true;
            waiting_ = true;
            arm_deadline(deadline);
        }
        if (io_.stopped()) io_.restart();
        io_.run_one();
    }
}

void PipeChannel::drain_stderr(Clock::time_point deadline) {
    if (stderr_closed_) return;
    struct Waiting {
        bool& flag;
        ~Waiting() { flag = false; }
    } waiting{waiting_};
    waiting_ = true;
    arm_deadline(deadline);
    while (!stderr_closed_ && !timed_out_) {
        if (io_.stopped()) io_.restart();
        io_.run_one();
    }
}

}  // namespace bond::detail
