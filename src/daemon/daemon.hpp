// bondd as a whole: the listeners (a Unix socket, TCP, or stdin/stdout), the connected clients,
// the bonds and the warm pool, and the way out: on SIGTERM or SIGINT it stops accepting, closes
// every bond (no interpreter outlives it), removes its socket and returns 0.
//
// Threads: one network thread runs the io_context (accepting, reading and parsing messages,
// answering what needs no bond, bookkeeping); each bond has a thread of its own (BondWorker).
// See bond_worker.hpp for how operations and nested calls are routed to bond threads, and
// held_bond.hpp for the fast path of a client's calls, which bypasses the network thread.
#pragma once

#include "bond_registry.hpp"
#include "client_connection.hpp"
#include "client_poller.hpp"
#include "daemon_options.hpp"
#include "method_dispatcher.hpp"
#include "tcp_listener.hpp"
#include "unix_listener.hpp"
#include "warm_pool.hpp"
#include "workers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace bond::daemon {

class Daemon {
  public:
    // Sets everything up; throws std::runtime_error with the reason when it cannot.
    explicit Daemon(DaemonOptions options);
    ~Daemon();
    // Serves until SIGTERM or SIGINT (or, with --stdio, until the client has gone); returns the
    // exit status.
    int run();
    // Any thread: shuts down as SIGTERM does (for a daemon run inside another program).
    void stop();

  private:
    // A client on a socket (its input can be lent to bond threads), or on stdin and stdout.
    template <class Socket>
    void serve_socket(Socket socket, std::string peer, bool needs_auth, bool detects_hangup);
    void serve_stdio();
    void serve(const std::shared_ptr<LineStream>& stream, std::string peer, bool needs_auth);
    // A stream's on_closed.
    std::function<void()> stream_closed();
    // TCP: a client that has not authenticated within --auth-timeout-ms is disconnected, so that
    // connections nobody uses cannot pile up.
    void disconnect_unless_authenticated(const std::shared_ptr<ClientConnection>& client);
    void announce_ready();
    void wait_for_signal();
    void shutdown(const std::string& why);
    // Ends run() once shutting down, no bond thread is left and every client's stream is closed.
    void finish_if_done();

    DaemonOptions options_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer last_writes_;  // bounds the flush of the last answers
    ClientPoller client_poller_;
    Workers workers_;
    WarmPool pool_;
    BondRegistry registry_;
    std::optional<MethodDispatcher> dispatcher_;
    std::unique_ptr<UnixListener> unix_listener_;
    std::unique_ptr<TcpListener> tcp_listener_;
    std::map<std::uint64_t, std::shared_ptr<ClientConnection>> clients_;
    std::uint64_t last_client_id_ = 0;
    std::size_t open_streams_ = 0;
    bool shutting_down_ = false;
};

}  // namespace bond::daemon
