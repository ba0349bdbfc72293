// The TCP socket of --listen HOST:PORT: loopback addresses only, unless --allow-remote. A client
// that connects over TCP must first present the token (`auth`), which is checked by the
// dispatcher. Network thread only.
#pragma once

#include "accept_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>

namespace bond::daemon {

class TcpListener {
  public:
    using Socket = boost::asio::ip::tcp::socket;

    // `address` is HOST:PORT ([::1]:PORT for IPv6); HOST a numeric address or "localhost"; PORT 0
    // picks a free port. Throws std::runtime_error (a non-loopback address without
    // `allow_remote`, a port in use, ...).
    TcpListener(boost::asio::io_context& io, const std::string& address, bool allow_remote,
                std::function<void(Socket socket, std::string peer)> on_client);
    void close();
    // The address it listens on, with the port it got: "127.0.0.1:40123".
    std::string address() const;

  private:
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptLoop<boost::asio::ip::tcp> loop_;
};

}  // namespace bond::daemon
