// The Unix stream socket clients of the same user connect to: created 0600, by default in a
// directory of the user's own (0700) under $XDG_RUNTIME_DIR or /tmp. A stale socket that a dead
// daemon left is replaced; a live one is not. Peers of another uid are turned away (SO_PEERCRED).
// The socket file is removed when the listener closes. Network thread only.
#pragma once

#include "accept_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>

namespace bond::daemon {

class UnixListener {
  public:
    using Socket = boost::asio::local::stream_protocol::socket;

    // Throws std::runtime_error with the reason when the socket cannot be made.
    UnixListener(boost::asio::io_context& io, std::filesystem::path path,
                 std::function<void(Socket socket, std::string peer)> on_client);
    ~UnixListener();
    // Stops accepting and removes the socket file (if it is still this daemon's).
    void close();
    const std::filesystem::path& path() const { return path_; }

    // default_socket_path(), its directory created (0700) if needed, and refused if someone else
    // owns it or others may enter it.
    static std::filesystem::path default_path();

  private:
    void take(Socket socket);

    std::filesystem::path path_;
    boost::asio::local::stream_protocol::acceptor acceptor_;
    std::function<void(Socket, std::string)> on_client_;
    AcceptLoop<boost::asio::local::stream_protocol> loop_;
    ino_t inode_ = 0;  // of the socket file this daemon made
    bool closed_ = false;
};

}  // namespace bond::daemon
