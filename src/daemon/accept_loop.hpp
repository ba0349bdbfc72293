// Accepting clients on a listening socket, Unix or TCP alike: each accepted socket is handed on,
// and accepting goes on after an error (out of file descriptors, say) once a moment has passed,
// rather than spinning on it. Network thread only.
#pragma once

#include "daemon_log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace bond::daemon {

template <class Protocol>
class AcceptLoop {
  public:
    using Socket = typename Protocol::socket;
    using Acceptor = typename Protocol::acceptor;
    using Accepted = std::function<void(Socket socket)>;

    AcceptLoop(Acceptor& acceptor, Accepted on_client)
        : acceptor_(acceptor), on_client_(std::move(on_client)), retry_(acceptor.get_executor()) {}

    void start() { accept(); }
    void stop() {
        stopped_ = true;
        retry_.cancel();
    }

  private:
    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, Socket socket) {
            if (stopped_ || ec == boost::asio::error::operation_aborted) return;
            if (ec) {
                log().warn("cannot accept a client: {}; trying again shortly", ec.message());
                retry_.expires_after(std::chrono::milliseconds(100));
                retry_.async_wait([this](const boost::system::error_code& waited) {
                    if (!waited && !stopped_) accept();
                });
                return;
            }
            on_client_(std::move(socket));
            accept();
        });
    }

    Acceptor& acceptor_;
    Accepted on_client_;
    boost::asio::steady_timer retry_;
    bool stopped_ = false;
};

}  // namespace bond::daemon
