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

struct Pool::Reserve {
    Reserve(std::string_view lang, std::size_t size, Options options)
        : lang(lang), size(size), options(std::move(options)) {}

    // The filler thread: starts a bond whenever fewer than `size` are ready, one at a time, and
    // stops after a failed start until a taker has seen its error (no retries in a loop).
    void fill(const std::stop_token& stop) {
        std::unique_lock lock(mutex);
        while (wait_for_room(lock, stop)) {
            lock.unlock();
            std::optional<Bond> started;
            std::exception_ptr error;
            try {
                started.emplace(make_bond(lang, options));
            } catch (...) {
                error = std::current_exception();
            }
            lock.lock();
            if (started)
                ready.push_back(std::move(*started));
            else
                failure = error;
            changed.notify_all();
        }
    }

    // Waits until a bond is wanted; false once the pool ends. Woken by a take(), this thread must
    // not preempt the taker, which would then wait while it forks the next interpreter: it waits
    // under SCHED_BATCH, which does not preempt on wake-up, and starts the interpreter under the
    // usual policy again, which the interpreter inherits.
    bool wait_for_room(std::unique_lock<std::mutex>& lock, const std::stop_token& stop) {
        sched_param no_priority{.sched_priority = 0};
        ::sched_setscheduler(0, SCHED_BATCH, &no_priority);
        bool wanted = changed.wait(lock, stop, [&] { return ready.size() < size && !failure; });
        ::sched_setscheduler(0, SCHED_OTHER, &no_priority);
        return wanted;
    }

    // The oldest ready bond whose process still runs; those that ended while they waited go to
    // `ended`, to be closed once the lock is released. The filler is told there is room.
    std::optional<Bond> pop_living(std::vector<Bond>& ended) {
        std::optional<Bond> living;
        while (!living && !ready.empty()) {
            Bond bond = std::move(ready.front());
            ready.pop_front();
            if (process_ended(bond.pid()))
                ended.push_back(std::move(bond));
            else
                living.emplace(std::move(bond));
        }
        changed.notify_all();
        return living;
    }

    // Throws the failed start's error, once; the filler then tries again.
    [[noreturn]] void rethrow_failure() {
        std::exception_ptr error = std::exchange(failure, nullptr);
        changed.notify_all();
        std::rethrow_exception(error);
    }

    const std::string lang;
    const std::size_t size;
    const Options options;
    mutable std::mutex mutex;
    std::condition_variable_any changed;
    std::deque<Bond> ready;
    std::exception_ptr failure;  // the last start's, until a taker has seen it
    // Last: stopped and joined first, before the ready bonds are closed.
    std::jthread filler;
};

Pool::Pool(std::string_view lang, std::size_t size, Options options) {
    detail::known_driver(lang);  // an unknown language is the caller's error, now
    if (size == 0) throw BondException("", "a Pool needs a size of at least 1");
    reserve_ = std::make_unique<Reserve>(lang, size, std::move(options));
    reserve_->filler = std::jthread(
        [reserve = reserve_.get()](const std::stop_token& stop) { reserve->fill(stop); });
}

Pool::~Pool() = default;

Bond Pool::take() {
    std::vector<Bond> ended;  // closed after the lock is released
    std::unique_lock lock(reserve_->mutex);
    while (true) {
        reserve_->changed.wait(lock, [&] { return !reserve_->ready.empty() || reserve_->failure; });
        if (auto bond = reserve_->pop_living(ended)) return std::move(*bond);
        if (reserve_->failure) reserve_->rethrow_failure();
    }
}

std::optional<Bond> Pool::try_take() {
    std::vector<Bond> ended;
    std::lock_guard lock(reserve_->mutex);
    return reserve_->pop_living(ended);
}

void Pool::wait_until_full() {
    std::unique_lock lock(reserve_->mutex);
    reserve_->changed.wait(
        lock, [&] { return reserve_->ready.size() >= reserve_->size || reserve_->failure; });
    if (reserve_->ready.size() < reserve_->size) reserve_->rethrow_failure();
}

std::size_t Pool::ready() const {
    std::lock_guard lock(reserve_->mutex);
    return reserve_->ready.size();
}

}  // namespace bond
