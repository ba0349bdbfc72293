// One connected client: its messages in (requests, notifications, answers to `invoke`), its
// messages out (answers, `output` notifications, `invoke` requests), the bonds it holds and the
// `invoke` requests it has not answered yet.
//
// Threads: reading, dispatching and the held bonds are the network thread's, but for the
// requests a bond's thread reads itself while the client's input is lent to it
// (take_lent_line, held_bond.hpp). send(), send_output() and invoke() are called from bond
// threads too; they write (or queue) lines in the order they are called, so a bond's output
// reaches the client before the answer of the operation that produced it.
#pragma once

#include "bond_worker.hpp"
#include "client_objects.hpp"
#include "daemon_options.hpp"
#include "line_stream.hpp"
#include "rpc_error.hpp"

#include "../protocol/jsonrpc.hpp"

#include <bond/options.hpp>
#include <bond/value.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace bond::daemon {

class HeldBond;
class MethodDispatcher;

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
  public:
    // `needs_auth`: the first request must be `auth` (TCP).
    ClientConnection(boost::asio::io_context& network, std::uint64_t id, std::string peer,
                     std::shared_ptr<LineStream> stream, MethodDispatcher& dispatcher,
                     bool needs_auth, ClientLimits limits);

    // Network thread: starts reading; `on_gone` once the client has gone and its bonds are
    // released (its own closed), when the daemon forgets it.
    void start(std::function<void()> on_gone);
    // Network thread: ends the connection as if the client had gone (shutdown, failed auth).
    void disconnect(const std::string& why);

    // Any thread.
    void send(std::string line);
    void send_output(const std::string& bond, bond::Channel channel, std::string_view data);
    // Asks the client to run its exported `name`; its answer completes `awaited`. A client that
    // has gone completes it with an error at once. Returns the request's number N: its id on the
    // wire is "bondd:N", which no request of the client's may have (docs/daemon.md, invoke).
    std::int64_t invoke(const std::string& bond, const std::string& name, const Value& args,
                        ChainId chain, const std::shared_ptr<Awaited>& awaited);
    // The wait for invoke `id` has ended without its answer (the bond is closing): a late
    // answer is ignored, and later requests no longer count as part of that call.
    void forget_invoke(std::int64_t id);
    bool closed() const { return closed_; }
    // Any thread: one request's answer is about to be sent (or a notification has been run); it
    // no longer counts against --max-client-requests, as the client may have it at once.
    void request_answered() { --unanswered_; }
    // Any thread: that answer has been handed to the stream; once none is owed, a client that
    // has closed its input is let go.
    void request_done();

    // Any thread: lends the client's input to a bond's thread (LineStream::lend_input); none
    // when the client has gone or the network thread is reading it.
    std::unique_ptr<InputLease> lend_input(std::function<void()> wake);
    // The thread of `bond`, idle, which read `line` while it held `lease`: a request the network
    // thread would have queued for this idle bond (eval, eval_block or call on it) is carried
    // out at once on this thread, exactly as the network thread would have; anything else goes
    // back to the network thread, with the input.
    void take_lent_line(std::string& line, std::unique_ptr<InputLease> lease,
                        const std::shared_ptr<HeldBond>& bond);

    // Any thread: an operation of this client's is about to be queued for (or run on) `bond`.
    // A bond's thread borrows the client's input only when the client keeps calling that bond:
    // lent to a bond it does not call next, the input would only add a hand-over.
    void note_request_for(const HeldBond* bond);
    bool keeps_calling(const HeldBond* bond) const;

    // Any thread: the chain a request of this client on `bond` joins. While the client owes
    // an answer to `invoke`, its requests are part of that call: the innermost one from `bond`,
    // else the innermost of all. Otherwise the request starts a chain of its own.
    ChainId chain_for(const std::string& bond);

    std::uint64_t id() const { return id_; }
    const std::string& peer() const { return peer_; }
    bool needs_auth() const { return needs_auth_; }
    const ClientLimits& limits() const { return limits_; }
    bool authenticated() const { return authenticated_; }  // any thread
    void set_authenticated() { authenticated_ = true; }
    // Any thread: the remote objects it holds.
    const std::shared_ptr<ClientObjects>& objects() const { return objects_; }
    // Network thread: the ids of the bonds this client opened or attached to.
    std::set<std::string>& bonds() { return bonds_; }
    const std::set<std::string>& bonds() const { return bonds_; }

  private:
    struct PendingInvoke {
        std::string bond;
        ChainId chain;
        std::shared_ptr<Awaited> awaited;
    };
    void on_line(std::string& line);
    // take_lent_line: the request, if it is one this thread may carry out for `bond`.
    std::optional<detail::Message> request_for(std::string_view line, const HeldBond& bond);
    // An answer to one of the daemon's `invoke`s, by its id ("bondd:N"); any other is ignored.
    void take_answer(bool is_error, const Value& id, Value result, const std::string& error);
    void send_error(const Value& id, const RpcError& error);
    // The client sends nothing more: its pending and later `invoke`s fail, what it asked for is
    // still answered, and then it is gone.
    void input_ended(bool peer_gone);
    // The client has gone: its bonds are released; the connection closes once they are.
    void gone(const std::string& why);
    void fail_invokes(const std::string& why);

    boost::asio::io_context& network_;
    const std::uint64_t id_;
    const std::string peer_;
    std::shared_ptr<LineStream> stream_;
    MethodDispatcher& dispatcher_;
    const bool needs_auth_;
    const ClientLimits limits_;
    std::atomic<bool> authenticated_{false};
    std::set<std::string> bonds_;
    // Shared with the operations that hand objects out: one that ends after the client has gone
    // lets its objects go with it.
    std::shared_ptr<ClientObjects> objects_ = std::make_shared<ClientObjects>();
    std::function<void()> on_gone_;

    std::atomic<bool> closed_{false};
    std::atomic<bool> input_ended_{false};    // invoke() checks it under invokes_mutex_
    std::atomic<std::size_t> in_flight_{0};   // until the answer is handed to the stream
    std::atomic<std::size_t> unanswered_{0};  // until it is about to be: what the limit bounds
    std::atomic<const HeldBond*> last_bond_{nullptr};  // of the latest operation
    std::atomic<unsigned> same_bond_runs_{0};          // on it, one after the other
    std::mutex invokes_mutex_;
    std::map<std::int64_t, PendingInvoke> invokes_;  // by number: the last is the innermost
    std::int64_t last_invoke_id_ = 0;
};

}  // namespace bond::daemon
