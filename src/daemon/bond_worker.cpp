#include "bond_worker.hpp"

#include "daemon_log.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace bond::daemon {

namespace {

// Which bonds each chain waits for through proxied calls, the innermost wait last: the edges
// of the graph in which a cycle is a deadlock.
std::mutex waits_mutex;
std::unordered_map<ChainId, std::vector<const BondWorker*>> chain_waits;

}  // namespace

ChainId new_chain() {
    static std::atomic<ChainId> last{0};
    return ++last;
}

bool Awaited::complete(Value value, std::exception_ptr error) {
    std::lock_guard lock(worker_->mutex_);
    if (done_) return false;
    done_ = true;
    value_ = std::move(value);
    error_ = std::move(error);
    worker_->wake_.notify_all();
    return true;
}

void Awaited::set_value(Value value) {
    complete(std::move(value), nullptr);
}

void Awaited::set_error(std::exception_ptr error) {
    complete(nullptr, std::move(error));
}

Value Awaited::take() {
    if (error_) std::rethrow_exception(error_);
    return std::move(value_);
}

std::shared_ptr<BondWorker> BondWorker::start(std::string name, Joiner joiner) {
    std::shared_ptr<BondWorker> worker(new BondWorker(std::move(name)));
    worker->thread_ = std::thread([worker, joiner = std::move(joiner)]() mutable {
        ::pthread_setname_np(::pthread_self(), worker->name_.substr(0, 15).c_str());
        worker->serve(joiner);
    });
    return worker;
}

BondWorker::BondWorker(std::string name)
    : name_(std::move(name)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (wake_fd_ < 0) throw std::runtime_error("cannot create an eventfd for " + name_);
}

BondWorker::~BondWorker() {
    // Normally joined by the network thread; the last owner may also be the thread itself when
    // the daemon ends without running the joiner.
    if (thread_.joinable()) {
        if (thread_.get_id() == std::this_thread::get_id())
            thread_.detach();
        else
            thread_.join();
    }
    ::close(wake_fd_);
}

void BondWorker::notify() {
    wake_.notify_all();
    if (watching_ && !wake_written_) {
        std::uint64_t one = 1;
        if (::write(wake_fd_, &one, sizeof one) == sizeof one) wake_written_ = true;
    }
}

void BondWorker::set_idle_watch(IdleWatch* watch) {
    std::lock_guard lock(mutex_);
    idle_watch_ = watch;
}

bool BondWorker::start_watching() {
    std::lock_guard lock(mutex_);
    if (!queue_.empty() || finished_ || !idle_watch_) return false;
    watching_ = true;
    return true;
}

void BondWorker::stop_watching() {
    std::lock_guard lock(mutex_);
    watching_ = false;
    if (wake_written_) {  // not to wake the next watch for nothing
        std::uint64_t count;
        (void)!::read(wake_fd_, &count, sizeof count);
        wake_written_ = false;
    }
}

void BondWorker::drain_wake() {
    std::lock_guard lock(mutex_);
    std::uint64_t count;
    (void)!::read(wake_fd_, &count, sizeof count);
    wake_written_ = false;
}

void BondWorker::wake() {
    std::lock_guard lock(mutex_);
    notify();
}

void BondWorker::run_now(ChainId chain, Task task) {
    chain_ = chain;
    run(task);
    chain_ = 0;
}

bool BondWorker::submit(ChainId chain, Task task) {
    std::lock_guard lock(mutex_);
    if (finished_) return false;
    queue_.push_back({chain, std::move(task)});
    notify();
    return true;
}

void BondWorker::finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    notify();
}

void BondWorker::abort_waits() {
    std::lock_guard lock(mutex_);
    aborting_ = true;
    notify();
}

std::shared_ptr<Awaited> BondWorker::make_awaited() {
    std::shared_ptr<Awaited> awaited(new Awaited(shared_from_this()));
    std::lock_guard lock(mutex_);
    awaited->interruptions_ = interruptions_;  // an interrupt from now on ends its wait
    return awaited;
}

void BondWorker::run(Task& task) {
    // A task answers its own errors; one that escapes must not end the bond's thread.
    try {
        task();
    } catch (const std::exception& error) {
        log().error("{}: a task failed: {}", name_, error.what());
    } catch (...) {
        log().error("{}: a task failed with a non-standard exception", name_);
    }
    task = nullptr;  // its captures go now, outside the lock
}

void BondWorker::serve(const Joiner& joiner) {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (queue_.empty() && !finished_ && idle_watch_) {
            IdleWatch* watch = idle_watch_;
            lock.unlock();
            bool waited = watch->wait_idle(wake_fd_);
            lock.lock();
            if (waited) continue;
        }
        wake_.wait(lock, [&] { return !queue_.empty() || finished_; });
        if (watching_) {
            lock.unlock();
            idle_watch_->end_idle();
            lock.lock();
        }
        if (queue_.empty()) break;
        Queued next = std::move(queue_.front());
        queue_.pop_front();
        chain_ = next.chain;
        lock.unlock();
        run(next.task);
        lock.lock();
        chain_ = 0;
    }
    lock.unlock();
    joiner([worker = shared_from_this()] { worker->thread_.join(); });
}

void BondWorker::start_waiting_for(const BondWorker& other) {
    ChainId mine = chain();
    std::lock_guard lock(waits_mutex);
    // Follow the holders: other's chain, the bond that chain waits for, its chain, ... A chain
    // that runs code or waits for a client ends the walk: it will go on by itself. (A wait that
    // begins after this walk is checked by its own walk, against the wait recorded here.)
    const BondWorker* worker = &other;
    for (std::size_t step = 0; step <= chain_waits.size(); ++step) {
        ChainId holder = worker->chain();
        if (holder == 0 || (holder == mine && step == 0)) break;  // idle, or runs ours nested
        if (holder == mine)
            throw std::runtime_error("calling into " + other.name_ +
                                     " would wait forever: it is busy with another call that "
                                     "waits for " +
                                     worker->name_ + ", which this call holds (a deadlock)");
        auto waits = chain_waits.find(holder);
        if (waits == chain_waits.end()) break;
        worker = waits->second.back();
    }
    chain_waits[mine].push_back(&other);
}

void BondWorker::stop_waiting() {
    std::lock_guard lock(waits_mutex);
    auto waits = chain_waits.find(chain());
    if (waits == chain_waits.end()) return;
    waits->second.pop_back();
    if (waits->second.empty()) chain_waits.erase(waits);
}

void BondWorker::interrupt_waits() {
    std::lock_guard lock(mutex_);
    ++interruptions_;
    notify();
}

void BondWorker::wait(Awaited& awaited, Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    auto give_up = [&](const char* why) {
        awaited.done_ = true;
        awaited.error_ = std::make_exception_ptr(std::runtime_error(why));
    };
    for (;;) {
        if (awaited.done_) return;
        if (aborting_) return give_up("the bond is being closed");
        if (interruptions_ != awaited.interruptions_)
            return give_up("the operation was interrupted");
        if (Clock::now() >= deadline) return give_up("the operation's time limit ran out");
        ChainId running = chain_;
        auto nested = std::find_if(queue_.begin(), queue_.end(), [running](const Queued& queued) {
            return queued.chain == running;
        });
        if (nested == queue_.end()) {
            if (deadline == Clock::time_point::max())
                wake_.wait(lock);
            else
                wake_.wait_until(lock, deadline);
            continue;
        }
        Task task = std::move(nested->task);
        queue_.erase(nested);
        lock.unlock();
        run(task);
        lock.lock();
    }
}

}  // namespace bond::daemon
