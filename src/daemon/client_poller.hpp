// The epoll set of the clients' sockets. The network thread watches it through Asio, as one
// descriptor among its others; the sockets themselves stay out of Asio's reactor, so that the
// daemon decides who is woken by each: a socket is in the set, one-shot, only while the network
// thread is to read it (or write to it), and a bond's thread that has borrowed a client's input
// (InputLease, socket_line_stream.hpp) waits for it without waking the network thread.
// Network thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <functional>
#include <unordered_map>

namespace bond::daemon {

class ClientPoller {
  public:
    // Called with the events epoll reported for the socket.
    using Handler = std::function<void(std::uint32_t events)>;

    explicit ClientPoller(boost::asio::io_context& io);
    ClientPoller(const ClientPoller&) = delete;
    ClientPoller& operator=(const ClientPoller&) = delete;

    // The epoll descriptor, for epoll_ctl with the key add() gave (as epoll_event.data.u64).
    int fd() { return descriptor_.native_handle(); }
    std::uint64_t add(Handler handler);
    void remove(std::uint64_t key);

  private:
    void wait();
    void dispatch();

    boost::asio::posix::stream_descriptor descriptor_;
    std::unordered_map<std::uint64_t, Handler> handlers_;
    std::uint64_t last_key_ = 0;
};

}  // namespace bond::daemon
