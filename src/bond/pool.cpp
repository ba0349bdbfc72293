#include "driver_registry.hpp"

#include <bond/pool.hpp>

#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

namespace bond {

namespace {

// Whether the process `pid`, a child of this one that nothing has reaped (a bond's process is
// reaped only by its own operations), has ended: its pidfd is readable. Asks the kernel only,
// so an idle bond's state is left alone.
bool process_ended(int pid) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return errno == ESRCH;
    pollfd ended{.fd = pidfd, .events = POLLIN, .revents = 0};
    bool readable = ::poll(&ended, 1, 0) == 1;
    ::close(pidfd);
    return readable;
}

}  // namespace

// One pool's bonds and its state; shared with the starter while a start of its own is queued.
// Every field below `mutex` is guarded by it.
struct Pool::Reserve : std::enable_shared_from_this<Pool::Reserve> {
    Reserve(std::string_view lang, std::size_t size, Options options)
        : lang(lang), size(size), options(std::move(options)) {}

    // Asks the starter for a bond when the pool wants one and none is asked for yet.
    void request_if_wanted();
    // Run by the starter: starts one bond, or keeps the start's error and pauses.
    void start_one();
    // A demand (take, try_take) after a failed start: the error is dropped and starts resume.
    void resume() {
        failure = nullptr;
        paused = false;
        request_if_wanted();
    }
    // The kept error of a failed start, thrown once; the pool stays paused until the next demand.
    [[noreturn]] void rethrow_failure() { std::rethrow_exception(std::exchange(failure, nullptr)); }

    // The oldest ready bond whose process still runs; those that ended while they waited go to
    // `ended`, to be closed once the lock is released.
    std::optional<Bond> pop_living(std::vector<Bond>& ended) {
        while (!ready.empty()) {
            Bond bond = std::move(ready.front());
            ready.pop_front();
            if (!process_ended(bond.pid())) return bond;
            ended.push_back(std::move(bond));
        }
        return std::nullopt;
    }

    const std::string lang;
    const std::size_t size;
    const Options options;
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Bond> ready;
    std::exception_ptr failure;  // the last failed start's, until a taker has seen it
    bool paused = false;         // a start failed: no more until the next demand
    bool requested = false;      // a start is queued with the starter or running
    bool starting = false;       // make_bond runs for this pool now
    bool ending = false;         // the Pool is being destroyed
};

namespace {

// The one thread that starts every pool's interpreters, for as long as the process runs. A
// sandboxed or contained interpreter gets a parent-death signal, which follows the thread that
// forked it (PR_SET_PDEATHSIG, bwrap --die-with-parent): a thread that ended with its pool would
// kill the bonds it had started and handed out.
class Starter {
  public:
    static Starter& instance() {
        static Starter starter;
        return starter;
    }
    void post(std::function<void()> start) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(start));
        }
        changed_.notify_one();
    }

  private:
    Starter() : thread_([this](const std::stop_token& stop) { run(stop); }) {}

    void run(const std::stop_token& stop) {
        // Woken by a take(), this thread must not preempt the taker, which would then wait while
        // it forks the next interpreter: it waits under SCHED_BATCH, which does not preempt on
        // wake-up, and starts interpreters under its own policy again, which they inherit. Only
        // from SCHED_OTHER: another policy the program chose is left as it is.
        bool switch_policy = ::sched_getscheduler(0) == SCHED_OTHER;
        sched_param no_priority{.sched_priority = 0};
        while (true) {
            std::function<void()> start;
            {
                std::unique_lock lock(mutex_);
                if (switch_policy) ::sched_setscheduler(0, SCHED_BATCH, &no_priority);
                changed_.wait(lock, stop, [&] { return !queue_.empty(); });
                if (switch_policy) ::sched_setscheduler(0, SCHED_OTHER, &no_priority);
                if (stop.stop_requested()) return;
                start = std::move(queue_.front());
                queue_.pop_front();
            }
            start();
        }
    }

    std::mutex mutex_;
    std::condition_variable_any changed_;
    std::deque<std::function<void()>> queue_;
    std::jthread thread_;  // last: stopped and joined first
};

}  // namespace

void Pool::Reserve::request_if_wanted() {
    if (requested || paused || ending || ready.size() >= size) return;
    requested = true;
    Starter::instance().post([reserve = shared_from_this()] { reserve->start_one(); });
}

void Pool::Reserve::start_one() {
    std::unique_lock lock(mutex);
    requested = false;
    if (paused || ending || ready.size() >= size) return;
    starting = true;
    lock.unlock();
    std::optional<Bond> started;
    std::exception_ptr error;
    try {
        started.emplace(make_bond(lang, options));
    } catch (...) {
        error = std::current_exception();
    }
    lock.lock();
    if (ending && started) {  // closed before the destructor, which waits for `starting`, goes on
        lock.unlock();
        started.reset();
        lock.lock();
    }
    starting = false;
    if (started) {
        ready.push_back(std::move(*started));
        failure = nullptr;  // an error of an earlier start no longer says anything
    } else if (error && !ending) {
        failure = error;
        paused = true;
    }
    request_if_wanted();
    changed.notify_all();
}

Pool::Pool(std::string_view lang, std::size_t size, Options options) {
    detail::known_driver(lang);  // an unknown language is the caller's error, now
    if (size == 0) throw BondException("", "a Pool needs a size of at least 1");
    reserve_ = std::make_shared<Reserve>(lang, size, std::move(options));
    std::lock_guard lock(reserve_->mutex);
    reserve_->request_if_wanted();
}

Pool::~Pool() {
    std::deque<Bond> untaken;  // closed after the lock is released
    std::unique_lock lock(reserve_->mutex);
    reserve_->ending = true;
    reserve_->changed.wait(lock, [&] { return !reserve_->starting; });
    untaken.swap(reserve_->ready);
}

Bond Pool::take() {
    std::vector<Bond> ended;  // closed after the lock is released
    std::unique_lock lock(reserve_->mutex);
    while (true) {
        if (auto bond = reserve_->pop_living(ended)) {
            reserve_->resume();
            return std::move(*bond);
        }
        if (reserve_->failure) reserve_->rethrow_failure();
        reserve_->resume();
        reserve_->changed.wait(lock, [&] { return !reserve_->ready.empty() || reserve_->failure; });
    }
}

std::optional<Bond> Pool::try_take() {
    std::vector<Bond> ended;
    std::lock_guard lock(reserve_->mutex);
    std::optional<Bond> bond = reserve_->pop_living(ended);
    reserve_->resume();
    return bond;
}

void Pool::wait_until_full() {
    std::unique_lock lock(reserve_->mutex);
    if (reserve_->failure) reserve_->rethrow_failure();
    reserve_->resume();
    reserve_->changed.wait(
        lock, [&] { return reserve_->ready.size() >= reserve_->size || reserve_->failure; });
    if (reserve_->ready.size() < reserve_->size) reserve_->rethrow_failure();
}

std::size_t Pool::ready() const {
    std::lock_guard lock(reserve_->mutex);
    return reserve_->ready.size();
}

}  // namespace bond
