#include "pipe_channel.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace bond::detail {

PipeChannel::PipeChannel(boost::asio::io_context& io, ChildProcess& child, std::size_t max_line,
                         StderrSink on_stderr)
    : io_(io),
      child_(child),
      on_stderr_(std::move(on_stderr)),
      input_(max_line),
      deadline_timer_(io) {
    read_stderr();
}

void PipeChannel::send(std::string line) {
    if (stdin_broken_) return;  // the reader is gone; the missing reply will tell
    outgoing_.push_back(std::move(line));
    if (!writing_) write_next();
}

void PipeChannel::write_next() {
    writing_ = true;
    boost::asio::async_write(child_.stdin_pipe(), boost::asio::buffer(outgoing_.front()),
                             [this](const boost::system::error_code& ec, std::size_t) {
                                 if (ec) {
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
    stdout_reading_ = true;
    child_.stdout_pipe().async_read_some(
        boost::asio::buffer(stdout_chunk_),
        [this](const boost::system::error_code& ec, std::size_t size) {
            stdout_reading_ = false;
            if (ec) {
                stdout_closed_ = true;
                return;
            }
            stdout_received_ += size;
            input_.append(stdout_chunk_.data(), size);
        });
}

void PipeChannel::read_stderr() {
    child_.stderr_pipe().async_read_some(
        boost::asio::buffer(stderr_chunk_),
        [this](const boost::system::error_code& ec, std::size_t size) {
            if (ec) {
                stderr_closed_ = true;
                return;
            }
            on_stderr_(std::string_view(stderr_chunk_.data(), size));
            read_stderr();
        });
}

void PipeChannel::arm_deadline(Clock::time_point deadline) {
    timed_out_ = false;
    deadline_timer_.expires_at(deadline);
    deadline_timer_.async_wait(
        [this, generation = ++wait_generation_](const boost::system::error_code& ec) {
            if (!ec && generation == wait_generation_) timed_out_ = true;
        });
}

PipeChannel::ReadStatus PipeChannel::read_line(std::string& line, Clock::time_point deadline) {
    timed_out_ = false;
    bool timer_armed = false;
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
        if (!stdout_reading_) read_stdout();
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
            arm_deadline(deadline);
        }
        if (io_.stopped()) io_.restart();
        io_.run_one();
    }
}

void PipeChannel::drain_stderr(Clock::time_point deadline) {
    if (stderr_closed_) return;
    arm_deadline(deadline);
    while (!stderr_closed_ && !timed_out_) {
        if (io_.stopped()) io_.restart();
        io_.run_one();
    }
}

}  // namespace bond::detail
