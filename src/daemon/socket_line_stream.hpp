// A client's socket (Unix or TCP) as a LineStream whose input the network thread can lend to a
// bond's thread (InputLease, line_stream.hpp).
//
// Who reads: the network thread, woken through the ClientPoller, while the socket is armed
// there; or, while the input is lent, the borrower alone, who polls the socket itself (it is then
// out of the poller's set). The network thread lends it only when it is not reading it and holds
// nothing of it (no line, nor part of one), and takes it back when the stream closes; the
// borrower gives it back with whatever it read and does not run (the network thread handles that
// first, in order). So each byte is read, and each line handed on, by one thread, in order.
//
// Who writes: whoever calls write() sends at once what the socket takes without blocking, when
// nothing is queued before it; the rest is queued and the network thread writes it once epoll
// says the socket has room.
//
// Threads: start(), close() and the poller's events are the network thread's; write() and
// lend_input() any thread's; the lease's functions its holder's. The state below is under mutex_,
// but for what only one side touches at a time: buffer_ and chunk_ belong to whoever reads.
#pragma once

#include "client_poller.hpp"
#include "line_stream.hpp"

#include "../transport/line_buffer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace bond::daemon {

class SocketLineStream : public LineStream, public std::enable_shared_from_this<SocketLineStream> {
  public:
    // `fd`: a connected stream socket, the stream's from now on. `detects_hangup`: the socket
    // reports a peer that has closed entirely (a Unix socket does; TCP cannot tell that from a
    // peer that only shut down its sending side). `on_closed` runs on the network thread once
    // the stream is closed. `drain_time`: how long, once closed, what is queued may wait for a
    // client that does not read before it is dropped (the client still holds the socket).
    SocketLineStream(boost::asio::io_context& io, ClientPoller& poller, int fd,
                     std::size_t max_line, bool detects_hangup, std::function<void()> on_closed,
                     std::chrono::milliseconds drain_time = std::chrono::seconds(30));
    ~SocketLineStream() override;

    void start(Handlers handlers) override;
    void write(std::string line) override;
    void close() override;
    std::unique_ptr<InputLease> lend_input(std::function<void()> wake) override;

  private:
    class Lease;
    using Lock = std::unique_lock<std::mutex>;

    // Network thread.
    void on_events(std::uint32_t events);
    void read_input();
    void end_input();
    void hand_on_lines();
    void hand_on_buffered();
    bool hung_up() const;
    // Network thread, locked: re-arms, or closes once closing and everything is written.
    void after_reading(Lock& lock);
    void close_now(Lock& lock);
    void fail(Lock& lock);
    // Once closing: closes after the drain time if it has not closed by then.
    void await_drain();

    // Locked.
    // The socket's place in the poller's set: armed one-shot for what the network thread is to
    // do now (read, write), else disarmed.
    void rearm();
    // Writes what is queued, as far as the socket takes it; false when writing failed.
    bool flush();
    // The input is the network thread's again (the lease is over, or taken back); returns the
    // borrower's wake-up, to call once unlocked.
    std::function<void()> give_back();

    // The lease's holder.
    bool taken_back(std::uint64_t generation);
    InputLease::Read lease_read(std::uint64_t generation, std::string& line);
    void lease_end(std::uint64_t generation, std::string* unread);

    boost::asio::io_context& io_;
    ClientPoller& poller_;
    const int fd_;
    const std::size_t max_line_;
    const bool detects_hangup_;
    std::function<void()> on_closed_;
    Handlers handlers_;      // network thread; they hold the connection weakly
    std::uint64_t key_ = 0;  // in the poller

    detail::LineBuffer buffer_;  // bytes read, not yet handed on as lines
    std::array<char, 65536> chunk_;

    std::mutex mutex_;
    std::condition_variable drained_;  // queued_bytes_ went down, or the stream is closing
    std::deque<std::string> queue_;    // waiting for room in the socket
    std::size_t front_written_ = 0;    // bytes of queue_.front() already sent
    std::size_t queued_bytes_ = 0;
    std::uint32_t armed_ = 0;  // the events the socket is armed for in the set
    bool registered_ = false;  // in the set (from start() until it closes)
    bool started_ = false;
    bool network_reading_ = false;   // the network thread reads, or hands on lines
    bool input_ended_ = false;       // the network thread has seen the end of the input
    bool borrower_saw_end_ = false;  // for the network thread to act on
    bool closing_ = false, closed_ = false;
    bool lent_ = false;
    std::uint64_t generation_ = 0;  // of the lease; a lease of another generation is over
    std::function<void()> lease_wake_;
    const std::chrono::milliseconds drain_time_;
    boost::asio::steady_timer drain_deadline_;  // under mutex_
    std::thread::id lease_holder_;
};

}  // namespace bond::daemon
