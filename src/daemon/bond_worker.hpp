// The thread that runs one bond's operations, one top-level operation at a time.
//
// Threading rules of the daemon (see also held_bond.hpp and client_connection.hpp):
// - A bond (bond::Bond) is used only by its worker thread: starting it, every operation, closing
//   it. A slow call therefore delays nothing but the later operations of the same bond.
// - Operations are tasks tagged with a *chain*: the logical thread of control they belong to. A
//   client's request starts a chain; everything done on its behalf while it runs (an `invoke` the
//   client answers by calling the bond again, a proxied call into another bond and back) carries
//   the same chain. While a task waits for something outside its bond (a client's answer to
//   `invoke`, a call on another bond) its worker runs the queued tasks of *its own chain* nested
//   inside the wait, on the same thread and so on the same bond::Bond, which is what makes
//   recursion through the daemon work to any depth. Tasks of other chains wait for the bond to be
//   idle, in the order they came.
// - Anything may submit tasks and complete an Awaited from any thread; only the worker's own
//   thread calls wait().
// - An idle worker may watch something besides its queue (an IdleWatch: the input of the client
//   it has just answered, lent to it by the network thread, held_bond.hpp), and run what comes
//   from there at once, on its own thread, as if it had been queued and taken: a client's next
//   call then reaches the bond without passing through the network thread. While it watches, a
//   submitted task also wakes it through an eventfd; it stops watching before any queued task.
#pragma once

#include <bond/value.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace bond::daemon {

using Clock = std::chrono::steady_clock;

// Identifies one logical thread of control across clients and bonds; 0 is none.
using ChainId = std::uint64_t;
ChainId new_chain();

class BondWorker;

// What a task running on a worker waits for from elsewhere: a client's answer to `invoke`, or the
// outcome of a call on another bond. Completed once, from any thread; later completions are
// ignored.
class Awaited {
  public:
    void set_value(Value value);
    void set_error(std::exception_ptr error);
    // After the worker's wait() returned: the value, or the error rethrown.
    Value take();

  private:
    friend class BondWorker;
    explicit Awaited(std::shared_ptr<BondWorker> worker) : worker_(std::move(worker)) {}
    bool complete(Value value, std::exception_ptr error);
    std::shared_ptr<BondWorker> worker_;
    bool done_ = false;                // guarded by the worker's mutex
    std::uint64_t interruptions_ = 0;  // the worker's count when this was made
    Value value_;
    std::exception_ptr error_;
};

// What an idle worker watches besides its queue. Worker thread only.
class IdleWatch {
  public:
    virtual ~IdleWatch() = default;
    // Nothing is queued: waits for what is watched or for `wake_fd` (readable once a task was
    // submitted, or the watch is to end) and handles what came. False, at once, when nothing is
    // watched: the worker then waits for tasks alone.
    virtual bool wait_idle(int wake_fd) = 0;
    // A queued task is about to run, or the thread ends: the watch ends.
    virtual void end_idle() = 0;
};

class BondWorker : public std::enable_shared_from_this<BondWorker> {
  public:
    using Task = std::function<void()>;
    // Called by the thread as its last act, with a function that joins it (from another thread).
    using Joiner = std::function<void(std::function<void()> join)>;

    // Starts the thread. When it has run its last task (after finish()) it hands `joiner` a
    // function that joins it, for the daemon to call on its network thread.
    static std::shared_ptr<BondWorker> start(std::string name, Joiner joiner);
    ~BondWorker();
    BondWorker(const BondWorker&) = delete;
    BondWorker& operator=(const BondWorker&) = delete;

    // Queues `task` in `chain`; false once finish() was called (the task is dropped).
    bool submit(ChainId chain, Task task);
    // No more tasks are accepted; the thread ends after those already queued.
    void finish();
    // Ends every wait() now and later with an error: the bond is being closed by force.
    void abort_waits();
    // Ends with an error the waits for Awaiteds made before now (interrupt); later ones are not
    // affected.
    void interrupt_waits();

    // The chain of the task running now, 0 when idle. Any thread.
    ChainId chain() const { return chain_.load(); }
    bool busy() const { return chain() != 0; }

    // Worker thread only, inside a task: a new Awaited for this worker, and waiting for it while
    // running the queued tasks of the running chain. The wait ends early, with an error in the
    // Awaited, once `deadline` has passed, or when the bond is closed or interrupted.
    std::shared_ptr<Awaited> make_awaited();
    void wait(Awaited& awaited, Clock::time_point deadline = Clock::time_point::max());

    // Worker thread, inside a task that is to wait for a task of its chain on `other` (a proxied
    // call). Throws std::runtime_error, and records nothing, when that wait could never end:
    // `other` is busy with another chain that waits, directly or through further bonds, for a
    // bond this chain holds. Otherwise the wait is recorded until stop_waiting().
    void start_waiting_for(const BondWorker& other);
    void stop_waiting();
    const std::string& name() const { return name_; }

    // Any thread, once: what the worker watches while idle (it outlives the thread's last task).
    void set_idle_watch(IdleWatch* watch);
    // Worker thread: starts watching, unless a task is queued or the thread is ending (false).
    // From now on until stop_watching(), anything that wakes the worker writes its eventfd too.
    bool start_watching();
    void stop_watching();
    // Worker thread, after wait_idle saw the eventfd readable: reads it.
    void drain_wake();
    // Any thread: wakes the worker from wait_idle (what it watches was taken back).
    void wake();
    // Worker thread, inside wait_idle only: runs `task` at once in `chain`, as if it had been
    // queued and taken.
    void run_now(ChainId chain, Task task);

  private:
    friend class Awaited;
    struct Queued {
        ChainId chain;
        Task task;
    };
    explicit BondWorker(std::string name);
    void serve(const Joiner& joiner);
    void run(Task& task);
    // Under mutex_: wakes the worker, wherever it waits.
    void notify();

    std::string name_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Queued> queue_;
    bool finished_ = false;
    bool aborting_ = false;
    std::uint64_t interruptions_ = 0;  // a wait that sees it change ends
    std::atomic<ChainId> chain_{0};
    IdleWatch* idle_watch_ = nullptr;
    int wake_fd_ = -1;           // an eventfd, written while watching_
    bool watching_ = false;      // the worker waits, or is about to, in wait_idle
    bool wake_written_ = false;  // wake_fd_ is readable
};

}  // namespace bond::daemon
