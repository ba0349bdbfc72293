// One client's byte stream (a Unix or TCP socket, or stdin and stdout) as newline-delimited
// messages: lines read are handed to the connection, lines written go out whole and in order.
// Reading belongs to the network thread, unless it lends the input to a bond's thread (sockets
// only: socket_line_stream.hpp). write() may be called from any thread: the calling thread
// writes at once what the stream takes without blocking, the network thread the rest; from a
// bond's thread it waits while the client is far behind in reading (so a client that never reads
// cannot make the daemon buffer without bound).
#pragma once

#include "../transport/line_buffer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bond::daemon {

// The right to read a client's input, lent by the network thread to an idle bond's thread, which
// then waits for the client's next request itself (poll() on fd()) and, when it is a call on its
// own bond, runs it at once. Ended by the borrower, or taken back by the stream (it closes, or
// the borrower would wait to write): the borrower is then woken and must stop.
class InputLease {
  public:
    enum class Read {
        Line,     // exactly one whole line had arrived: in `line`, without its '\n'
        Nothing,  // nothing yet
        Other,    // anything else (more than a line, part of one, the end): for the network thread
        TakenBack,
    };
    virtual ~InputLease() = default;  // ends the lease if it is still on
    virtual int fd() const = 0;
    virtual bool taken_back() const = 0;
    // Reads what has arrived, without blocking.
    virtual Read read(std::string& line) = 0;
    // Gives the input back: the network thread reads from now on, first `unread` (a line read()
    // returned and the borrower leaves to it) and whatever else read() took in.
    virtual void end(std::string* unread = nullptr) = 0;
};

class LineStream {
  public:
    struct Handlers {
        std::function<void(std::string& line)> on_line;
        // A line over the limit (the most bytes a line may have, given) was dropped.
        std::function<void(std::size_t max_line)> on_too_long;
        // No more lines will come. `peer_gone`: the client has closed its end entirely (a Unix
        // socket reports that); else it may only have shut down its sending side and still
        // read: then what it asked for can still be answered.
        std::function<void(bool peer_gone)> on_input_end;
        std::function<void()> on_broken;  // writing failed: the client is gone
    };
    virtual ~LineStream() = default;
    // Network thread: starts reading.
    virtual void start(Handlers handlers) = 0;
    // Any thread: queues `line` (ending in '\n'); dropped once the stream is closed.
    virtual void write(std::string line) = 0;
    // Network thread: stops reading at once and closes the stream once what is queued is written.
    virtual void close() = 0;
    // Any thread: lends the input, if the network thread is not reading it now; `wake` is called
    // (from any thread) when the stream takes it back. None: not lent.
    // By value, as the overrides that lend keep it.
    virtual std::unique_ptr<InputLease> lend_input(
        std::function<void()> /*wake*/) {  // NOLINT(performance-unnecessary-value-param)
        return nullptr;
    }
};

// How many bytes may wait for a slow client before a bond's thread that writes more waits.
inline constexpr std::size_t kMaxQueuedBytes = std::size_t{16} << 20;

// `Stream` is an Asio stream (a socket, a posix::stream_descriptor). Sockets read and write the
// one object; stdio reads one descriptor and writes another.
template <class Stream>
class AsioLineStream : public LineStream,
                       public std::enable_shared_from_this<AsioLineStream<Stream>> {
  public:
    // `detects_hangup`: the stream reports a peer that has closed entirely (POLLHUP), as a Unix
    // socket does; for a pipe POLLHUP only means end of file.
    // `on_closed` runs (on the network thread) once the stream is closed.
    AsioLineStream(boost::asio::io_context& io, Stream input, std::optional<Stream> output,
                   std::size_t max_line, bool detects_hangup, std::function<void()> on_closed)
        : io_(io),
          input_(std::move(input)),
          output_(std::move(output)),
          buffer_(max_line),
          detects_hangup_(detects_hangup),
          on_closed_(std::move(on_closed)) {
        int fd = this->output().native_handle();  // for the writes of other threads
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }

    void start(Handlers handlers) override {
        handlers_ = std::move(handlers);
        read();
    }

    void write(std::string line) override {
        std::unique_lock lock(mutex_);
        if (!io_.get_executor().running_in_this_thread())
            drained_.wait(lock, [&] { return closing_ || queued_bytes_ < kMaxQueuedBytes; });
        if (closing_) return;  // nothing more is sent after close()
        if (!writing_ && queue_.empty()) {
            // Written at once by the calling thread (usually a bond's, with an answer) when the
            // stream takes it without blocking: no hand-over to the network thread, whose wake-up
            // costs more than the write.
            ssize_t written = ::write(output().native_handle(), line.data(), line.size());
            if (written == static_cast<ssize_t>(line.size())) return;
            if (written > 0) line.erase(0, static_cast<std::size_t>(written));
        }
        queued_bytes_ += line.size();
        queue_.push_back(std::move(line));
        if (writing_) return;
        writing_ = true;
        boost::asio::post(io_, [self = this->shared_from_this()] { self->write_queued(); });
    }

    void close() override {
        reading_ = false;
        std::unique_lock lock(mutex_);
        closing_ = true;
        drained_.notify_all();  // a writer waiting for room gives up
        if (!writing_) close_now(lock);
    }

  private:
    Stream& output() { return output_ ? *output_ : input_; }

    void read() {
        input_.async_read_some(
            boost::asio::buffer(chunk_),
            [self = this->shared_from_this()](const boost::system::error_code& ec,
                                              std::size_t size) { self->take(ec, size); });
    }

    void take(const boost::system::error_code& ec, std::size_t size) {
        if (!reading_) return;
        if (ec) {
            reading_ = false;
            handlers_.on_input_end(detects_hangup_ && hung_up());
            return;
        }
        buffer_.append(chunk_.data(), size);
        std::string line;
        while (reading_) {
            auto taken = buffer_.take(line);
            if (taken == detail::LineBuffer::Taken::Nothing) break;
            if (taken == detail::LineBuffer::Taken::TooLong) {
                buffer_.skip_line();
                handlers_.on_too_long(buffer_.max_line());
            } else {
                handlers_.on_line(line);
            }
        }
        if (reading_) read();
    }

    // Network thread: writes everything queued as one gather-write.
    void write_queued() {
        std::vector<boost::asio::const_buffer> buffers;
        {
            std::lock_guard lock(mutex_);
            if (closed_) return;
            writing_batch_.swap(queue_);
            for (const auto& line : writing_batch_) buffers.push_back(boost::asio::buffer(line));
        }
        boost::asio::async_write(
            output(), buffers,
            [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                self->written(ec);
            });
    }

    void written(const boost::system::error_code& ec) {
        std::unique_lock lock(mutex_);
        for (const auto& line : writing_batch_) queued_bytes_ -= line.size();
        writing_batch_.clear();
        drained_.notify_all();
        if (ec) {
            writing_ = false;
            close_now(lock);
            if (handlers_.on_broken) handlers_.on_broken();
            return;
        }
        if (queue_.empty()) {
            writing_ = false;
            if (closing_) close_now(lock);
            return;
        }
        lock.unlock();
        write_queued();
    }

    bool hung_up() {
        pollfd descriptor{input_.native_handle(), POLLIN, 0};
        return ::poll(&descriptor, 1, 0) == 1 && (descriptor.revents & POLLHUP);
    }

    void close_now(std::unique_lock<std::mutex>& lock) {
        if (closed_) return;
        closed_ = true;
        queue_.clear();
        queued_bytes_ = 0;
        drained_.notify_all();
        lock.unlock();
        reading_ = false;
        boost::system::error_code ignored;
        input_.close(ignored);
        if (output_) output_->close(ignored);
        if (on_closed_) on_closed_();
    }

    boost::asio::io_context& io_;
    Stream input_;
    std::optional<Stream> output_;  // none: input_ is written too
    detail::LineBuffer buffer_;
    std::array<char, 65536> chunk_;
    const bool detects_hangup_;
    std::function<void()> on_closed_;
    Handlers handlers_;    // they hold the connection weakly
    bool reading_ = true;  // network thread

    std::mutex mutex_;
    std::condition_variable drained_;
    std::deque<std::string> queue_, writing_batch_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false, closing_ = false, closed_ = false;
};

template <class Stream>
std::shared_ptr<LineStream> make_line_stream(boost::asio::io_context& io, Stream input,
                                             std::optional<Stream> output, std::size_t max_line,
                                             bool detects_hangup, std::function<void()> on_closed) {
    return std::make_shared<AsioLineStream<Stream>>(io, std::move(input), std::move(output),
                                                    max_line, detects_hangup, std::move(on_closed));
}

}  // namespace bond::daemon
