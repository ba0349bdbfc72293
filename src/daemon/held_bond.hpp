// One bond the daemon holds for its clients: the bond::Bond, the thread that uses it (a
// BondWorker: see bond_worker.hpp for the threading rules), and what the daemon knows about it.
//
// A HeldBond exists, and can be held, from the moment it is asked for: operations sent to it
// while its interpreter starts run once it has started, in the order they came.
//
// The fast path of a call: when a top-level operation ends with nothing queued behind it, the
// bond's thread borrows the input of the client it is about to answer (InputLease) and waits for
// that client's next request itself. A request that is one of eval, eval_block or call on this
// bond, which the network thread would have queued for this idle bond, runs at once on this
// thread (ClientConnection::take_lent_line); anything else goes back to the network thread
// first, and the input with it. Either way the input is the network thread's again while an
// operation runs, so the client is heard (its answers to `invoke`, its disconnect) as before.
//
// Threads: the bond::Bond, whose output it is now and the lent input are touched only on the
// worker thread. The name and the close callbacks are the network thread's; the holders are
// changed by the network thread and read by any (under a mutex). id, lang and the time it was
// asked for never change; pid and the states are atomics that any thread may read, the exported
// names a copy under a mutex.
#pragma once

#include "bond_worker.hpp"
#include "line_stream.hpp"
#include "workers.hpp"

#include <bond/bond.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bond::daemon {

class ClientConnection;

class HeldBond : public std::enable_shared_from_this<HeldBond>, private IdleWatch {
  public:
    // What runs on the bond: `limits` are the operation's own (for Bond::with_limits: a field
    // that is set replaces the bond's; none set keeps the bond's).
    using Operation = std::function<Value(bond::Bond& bond, const bond::Limits& limits)>;
    using Completion = std::function<void(Value result, std::exception_ptr error)>;
    // Network thread: `bond` has started (error null), or could not.
    using Started = std::function<void(std::shared_ptr<HeldBond> bond, std::exception_ptr error)>;

    // Starts `lang`'s interpreter on a new bond thread. `options.on_output` is the daemon's.
    // `on_started` runs on the network thread once it has started or failed.
    static std::shared_ptr<HeldBond> start(Workers& workers, std::string id,
                                           const std::string& lang, bond::Options options,
                                           Started on_started);
    ~HeldBond() override;
    HeldBond(const HeldBond&) = delete;
    HeldBond& operator=(const HeldBond&) = delete;

    // Any thread: runs `operation` on the bond's thread as part of `chain`, on behalf of
    // `requester`, who gets the output it produces; then `done` on that thread. An operation of a
    // requester that has gone is dropped, and one on a closed bond fails with
    // TerminatedException. `limits` replace the bond's for this operation, field by field.
    void run(ChainId chain, std::weak_ptr<ClientConnection> requester, Operation operation,
             const Completion& done, bond::Limits limits = {});
    // The same at once on this thread: the bond's thread, idle, with the input of `requester`
    // lent to it (take_lent_line).
    void run_now(ChainId chain, std::weak_ptr<ClientConnection> requester, Operation operation,
                 Completion done, bond::Limits limits = {});

    // Any thread: stops the operation running now (Bond::interrupt()), also while it waits for a
    // client's answer to `invoke` or for another bond; it ends with Interrupted. An idle bond is
    // left alone.
    void interrupt();
    // Whether `object` is one of this bond's interpreter's own.
    bool holds(const bond::Object& object);
    // The same, only if the top-level operation running now is one `client` asked for.
    void interrupt_for(std::uint64_t client);

    // A function to export into this bond that asks `client` to run its `name` (the `invoke`
    // request) and waits for the answer, serving the chain's nested requests meanwhile.
    detail::HostFunction client_function(std::weak_ptr<ClientConnection> client, std::string name);
    // A function to export into this bond that calls `name` of `source`, on the source's thread.
    detail::HostFunction proxy_function(const std::shared_ptr<HeldBond>& source, std::string name);

    // Bond thread, inside an operation of this bond: runs `operation` on `other`, on its thread
    // and in this operation's chain, and waits for it, serving the chain's nested requests
    // meanwhile (a proxied function, an object of `other` used through a proxy).
    Value run_on(const std::shared_ptr<HeldBond>& other, Operation operation);

    // Any thread: the names the remote code can call that reach outside the bond (exported by
    // clients, or proxied into it), sorted; an export counts once it has taken effect.
    std::vector<std::string> exports() const;
    // Bond thread, after an export into `bond` (this HeldBond's own): keeps its Bond::exports()
    // for exports().
    void record_exports(const bond::Bond& bond);

    // Network thread: ends the bond. A running operation is ended by killing the interpreter
    // (it fails with TerminatedException); queued ones fail the same way. `on_closed` runs on the
    // network thread once the interpreter has exited and the bond's thread has been joined.
    void close(std::function<void()> on_closed = {});

    const std::string& id() const { return id_; }
    // The language's canonical name (as asked when no language has that name).
    const std::string& lang() const { return lang_; }
    int pid() const { return pid_; }  // -1 until it has started
    std::chrono::steady_clock::time_point asked_at() const { return asked_at_; }
    bool started() const { return pid_ >= 0; }
    // An operation is running.
    bool busy() const { return operations_ > 0; }
    // The interpreter has ended (it exited, or a timeout closed the bond).
    bool ended() const { return ended_ || process_exited(); }
    bool closing() const { return closing_; }

    // Who holds the bond (client ids): changed by the network thread, read by any.
    void add_holder(std::uint64_t client);
    void remove_holder(std::uint64_t client);
    bool held_by(std::uint64_t client) const;
    std::size_t holder_count() const;
    // Network thread: its name for `attach`.
    std::optional<std::string>& name() { return name_; }

  private:
    struct Lent {
        std::shared_ptr<ClientConnection> client;
        std::unique_ptr<InputLease> lease;
    };
    HeldBond(std::string id, const std::string& lang);
    // The operation as a task of the bond's thread.
    BondWorker::Task task(std::weak_ptr<ClientConnection> requester, Operation operation,
                          Completion done, bond::Limits limits);
    // Bond thread, a top-level operation of `client` done and about to be answered: borrows the
    // client's input if nothing else is queued.
    void borrow_input(const std::shared_ptr<ClientConnection>& client);
    bool wait_idle(int wake_fd) override;
    void end_idle() override;
    // Starts the interpreter; the error if it could not.
    std::exception_ptr start_on_worker(bond::Options options);
    void deliver_output(bond::Channel channel, std::string_view data);
    void close_on_worker();
    bool process_exited() const;
    void kill_interpreter();

    const std::string id_;
    const std::string lang_;
    const std::chrono::steady_clock::time_point asked_at_;
    bond::Limits limits_;  // the bond's (Options::limits), set before it starts
    std::atomic<int> pid_{-1};
    std::atomic<int> pidfd_{-1};  // the started process, to kill a busy bond race-free
    std::shared_ptr<BondWorker> worker_;

    // The worker thread's.
    std::optional<bond::Bond> bond_;  // none until started, or if it could not start
    std::mutex bond_mutex_;           // bond_ appearing or going, against interrupt()
    std::exception_ptr start_error_;  // why it could not
    std::vector<std::weak_ptr<ClientConnection>> requesters_;  // of the operations running
    std::optional<Lent> lent_;                                 // the input this idle thread watches
    // When the top-level operation's wall limit runs out: waits for clients and other bonds end
    // then, so that the limit holds even while the bond waits for them.
    Clock::time_point wall_deadline_ = Clock::time_point::max();

    std::atomic<bool> closing_{false}, ended_{false};
    std::atomic<int> operations_{0};               // running now, nested ones included
    std::atomic<std::uint64_t> top_requester_{0};  // the client of the top-level operation
    mutable std::mutex exports_mutex_;
    std::vector<std::string> exports_;  // Bond::exports(), as of the last export

    mutable std::mutex holders_mutex_;
    std::set<std::uint64_t> holders_;

    // The network thread's.
    std::optional<std::string> name_;
    std::vector<std::function<void()>> on_closed_;
    bool closed_ = false;  // the thread has been joined
};

}  // namespace bond::daemon
