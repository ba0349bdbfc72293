#include "socket_line_stream.hpp"

#include <boost/asio/post.hpp>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bond::daemon {

namespace {
bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}
}  // namespace

// final: the destructor's end() is this class's own.
class SocketLineStream::Lease final : public InputLease {
  public:
    Lease(std::shared_ptr<SocketLineStream> stream, std::uint64_t generation)
        : stream_(std::move(stream)), generation_(generation) {}
    ~Lease() override { end(); }
    int fd() const override { return stream_->fd_; }
    bool taken_back() const override { return stream_->taken_back(generation_); }
    Read read(std::string& line) override { return stream_->lease_read(generation_, line); }
    void end(std::string* unread = nullptr) override {
        if (ended_) return;
        ended_ = true;
        stream_->lease_end(generation_, unread);
    }

  private:
    std::shared_ptr<SocketLineStream> stream_;
    const std::uint64_t generation_;
    bool ended_ = false;
};

SocketLineStream::SocketLineStream(boost::asio::io_context& io, ClientPoller& poller, int fd,
                                   std::size_t max_line, bool detects_hangup,
                                   std::function<void()> on_closed,
                                   std::chrono::milliseconds drain_time)
    : io_(io),
      poller_(poller),
      fd_(fd),
      max_line_(max_line),
      detects_hangup_(detects_hangup),
      on_closed_(std::move(on_closed)),
      buffer_(max_line),
      drain_time_(drain_time),
      drain_deadline_(io) {}

SocketLineStream::~SocketLineStream() {
    if (!closed_) ::close(fd_);  // the daemon ended without closing it
}

void SocketLineStream::start(Handlers handlers) {
    handlers_ = std::move(handlers);
    std::weak_ptr<SocketLineStream> weak = weak_from_this();
    key_ = poller_.add([weak](std::uint32_t events) {
        if (auto self = weak.lock()) self->on_events(events);
    });
    std::lock_guard lock(mutex_);
    started_ = true;
    rearm();
}

void SocketLineStream::rearm() {
    if (closed_ || !started_) return;
    std::uint32_t wanted = 0;
    if (started_ && !lent_ && !network_reading_ && !input_ended_ && !closing_) wanted |= EPOLLIN;
    if (!queue_.empty()) wanted |= EPOLLOUT;
    if (wanted == armed_) return;
    // Disarmed by EPOLL_CTL_MOD rather than taken out of the set (DEL and ADD cost more than two
    // MODs, and the input is lent and given back on every call): epoll may then still report a
    // hang-up, once, which on_events ignores while the input is lent.
    epoll_event event{};
    event.events = wanted | EPOLLONESHOT;
    event.data.u64 = key_;
    ::epoll_ctl(poller_.fd(), registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd_, &event);
    registered_ = true;
    armed_ = wanted;
}

void SocketLineStream::on_events(std::uint32_t events) {
    Lock lock(mutex_);
    armed_ = 0;  // one-shot: disarmed by this report
    if (closed_) return;
    if (!queue_.empty() && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && !flush())
        return fail(lock);
    bool read = !lent_ && !network_reading_ && !input_ended_ && !closing_ &&
                (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP));
    if (read) {
        network_reading_ = true;
        lock.unlock();
        read_input();
        lock.lock();
        network_reading_ = false;
    }
    after_reading(lock);
}

void SocketLineStream::after_reading(Lock& lock) {
    if (closed_) return;
    if (closing_ && queue_.empty()) return close_now(lock);
    rearm();
}

void SocketLineStream::read_input() {
    ssize_t size = ::recv(fd_, chunk_.data(), chunk_.size(), MSG_DONTWAIT);
    if (size < 0 && would_block(errno)) return;
    if (size <= 0) return end_input();  // the end, or an error: no more lines either way
    buffer_.append(chunk_.data(), static_cast<std::size_t>(size));
    hand_on_lines();
}

void SocketLineStream::end_input() {
    {
        std::lock_guard lock(mutex_);
        input_ended_ = true;
    }
    handlers_.on_input_end(detects_hangup_ && hung_up());
}

void SocketLineStream::hand_on_lines() {
    std::string line;
    while (!closing_) {  // set by close(), on this thread
        auto taken = buffer_.take(line);
        if (taken == detail::LineBuffer::Taken::Nothing) break;
        if (taken == detail::LineBuffer::Taken::TooLong) {
            buffer_.skip_line();
            handlers_.on_too_long(buffer_.max_line());
        } else {
            handlers_.on_line(line);
        }
    }
}

void SocketLineStream::hand_on_buffered() {
    hand_on_lines();
    bool ended;
    {
        std::lock_guard lock(mutex_);
        ended = borrower_saw_end_ && !closing_;
        borrower_saw_end_ = false;
    }
    if (ended) end_input();
    Lock lock(mutex_);
    network_reading_ = false;
    after_reading(lock);
}

bool SocketLineStream::hung_up() const {
    pollfd descriptor{fd_, POLLIN, 0};
    return ::poll(&descriptor, 1, 0) == 1 && (descriptor.revents & POLLHUP);
}

void SocketLineStream::write(std::string line) {
    Lock lock(mutex_);
    if (!io_.get_executor().running_in_this_thread() && queued_bytes_ >= kMaxQueuedBytes) {
        // A borrower that waits here for the client to read would leave its input unwatched.
        if (lent_ && lease_holder_ == std::this_thread::get_id()) {
            auto wake = give_back();
            lock.unlock();
            if (wake) wake();
            lock.lock();
        }
        drained_.wait(lock, [&] { return closing_ || queued_bytes_ < kMaxQueuedBytes; });
    }
    if (closing_) return;  // nothing more is sent after close()
    if (queue_.empty()) {
        ssize_t sent = ::send(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent == static_cast<ssize_t>(line.size())) return;
        // No room, or part of it: the rest waits for the network thread. (Another error: its
        // flush meets it too, and ends the stream.)
        if (sent > 0) line.erase(0, static_cast<std::size_t>(sent));
    }
    queued_bytes_ += line.size();
    queue_.push_back(std::move(line));
    rearm();
}

bool SocketLineStream::flush() {
    while (!queue_.empty()) {
        std::array<iovec, 64> parts;
        std::size_t count = 0;
        for (auto line = queue_.begin(); line != queue_.end() && count < parts.size(); ++line) {
            std::size_t skip = count == 0 ? front_written_ : 0;
            parts[count++] = {line->data() + skip, line->size() - skip};
        }
        msghdr message{};
        message.msg_iov = parts.data();
        message.msg_iovlen = count;
        ssize_t sent = ::sendmsg(fd_, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0) {
            if (would_block(errno)) break;
            return false;
        }
        auto left = static_cast<std::size_t>(sent);
        while (left > 0) {
            std::size_t rest = queue_.front().size() - front_written_;
            if (left < rest) {
                front_written_ += left;
                break;
            }
            left -= rest;
            queued_bytes_ -= queue_.front().size();
            queue_.pop_front();
            front_written_ = 0;
        }
    }
    drained_.notify_all();
    return true;
}

void SocketLineStream::fail(Lock& lock) {
    close_now(lock);
    if (handlers_.on_broken) handlers_.on_broken();
}

void SocketLineStream::close() {
    Lock lock(mutex_);
    if (closing_) return;
    closing_ = true;
    drained_.notify_all();  // a writer waiting for room gives up
    auto wake = give_back();
    if (!network_reading_) after_reading(lock);  // else once it is done
    if (lock.owns_lock()) {
        lock.unlock();
        // Not closed yet: its owner lets go now, while what is queued may still wait for the
        // socket (and on_closed_ must run). The drain deadline's handler holds it from here.
        boost::asio::post(io_, [self = shared_from_this()] { self->await_drain(); });
    }
    if (wake) wake();
}

void SocketLineStream::await_drain() {
    std::lock_guard lock(mutex_);  // the deadline is set and cancelled under it
    if (closed_) return;
    // What is queued waits for the client, but not for ever. The pending handler keeps the
    // stream alive until it has closed: close_now() cancels it, which lets the stream go.
    drain_deadline_.expires_after(drain_time_);
    drain_deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        Lock lock(self->mutex_);
        self->close_now(lock);
    });
}

void SocketLineStream::close_now(Lock& lock) {
    if (closed_) return;
    closed_ = closing_ = true;
    auto wake = give_back();
    queue_.clear();
    queued_bytes_ = 0;
    drained_.notify_all();
    // A borrower may still poll the descriptor: its lease is over, it has been woken and it
    // checks the lease, under the lock, before it touches the socket.
    ::close(fd_);  // which takes it out of the poller's set
    registered_ = false;
    armed_ = 0;
    drain_deadline_.cancel();  // its handler lets go of the stream once it has run
    lock.unlock();
    if (wake) wake();
    poller_.remove(key_);
    if (on_closed_) on_closed_();
}

std::unique_ptr<InputLease> SocketLineStream::lend_input(std::function<void()> wake) {
    std::lock_guard lock(mutex_);
    if (!started_ || closing_ || lent_ || network_reading_ || input_ended_ || !buffer_.empty())
        return nullptr;
    lent_ = true;
    ++generation_;
    lease_wake_ = std::move(wake);
    lease_holder_ = std::this_thread::get_id();
    rearm();
    return std::make_unique<Lease>(shared_from_this(), generation_);
}

std::function<void()> SocketLineStream::give_back() {
    if (!lent_) return nullptr;
    lent_ = false;
    ++generation_;
    auto wake = std::move(lease_wake_);
    lease_wake_ = nullptr;
    if (!closing_ && (!buffer_.empty() || borrower_saw_end_)) {
        // The borrower read more than it ran, or the end: the network thread hands that on
        // before it reads anything else (the socket may well hold nothing more to wake it, and
        // an error, once read, is not reported again).
        network_reading_ = true;
        boost::asio::post(io_, [self = shared_from_this()] { self->hand_on_buffered(); });
    } else {
        rearm();
    }
    return wake;
}

bool SocketLineStream::taken_back(std::uint64_t generation) {
    std::lock_guard lock(mutex_);
    return !lent_ || generation != generation_;
}

InputLease::Read SocketLineStream::lease_read(std::uint64_t generation, std::string& line) {
    std::lock_guard lock(mutex_);  // so that the lease cannot end while the socket is read
    if (!lent_ || generation != generation_) return InputLease::Read::TakenBack;
    ssize_t size = ::recv(fd_, chunk_.data(), chunk_.size(), MSG_DONTWAIT);
    if (size < 0 && would_block(errno)) return InputLease::Read::Nothing;
    if (size <= 0) {  // the end, or an error
        borrower_saw_end_ = true;
        return InputLease::Read::Other;
    }
    auto length = static_cast<std::size_t>(size);
    const char* data = chunk_.data();
    if (buffer_.empty() && data[length - 1] == '\n' && length - 1 <= max_line_ &&
        std::memchr(data, '\n', length - 1) == nullptr) {
        line.assign(data, length - 1);
        return InputLease::Read::Line;
    }
    buffer_.append(data, length);
    return InputLease::Read::Other;
}

void SocketLineStream::lease_end(std::uint64_t generation, std::string* unread) {
    std::function<void()> wake;
    {
        std::lock_guard lock(mutex_);
        if (!lent_ || generation != generation_) return;  // taken back already
        if (unread) {  // the buffer was empty: the line goes first
            unread->push_back('\n');
            buffer_.append(unread->data(), unread->size());
        }
        wake = give_back();
    }
    (void)wake;  // the borrower is the caller: nothing to wake
}

}  // namespace bond::daemon
