#include "held_bond.hpp"

#include "client_connection.hpp"
#include "daemon_log.hpp"

#include "../bond/driver_registry.hpp"

#include <boost/asio/post.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

namespace bond::daemon {
namespace {

std::exception_ptr closed_error(const std::string& lang) {
    return std::make_exception_ptr(TerminatedException(lang, "the bond was closed"));
}

// The HeldBond whose operation this thread is running now (innermost), if any: the bond that
// asks when its interpreter uses a proxy of another bond's object.
thread_local HeldBond* operating_here = nullptr;

std::string canonical_language(const std::string& lang) {
    const detail::DriverSpec* driver = detail::find_driver(lang);
    return driver ? driver->name : lang;  // make_bond will say it is unknown
}

}  // namespace

HeldBond::HeldBond(std::string id, const std::string& lang)
    : id_(std::move(id)),
      lang_(canonical_language(lang)),
      asked_at_(std::chrono::steady_clock::now()) {}

HeldBond::~HeldBond() {
    if (int fd = pidfd_.exchange(-1); fd >= 0) ::close(fd);
}

std::shared_ptr<HeldBond> HeldBond::start(Workers& workers, std::string id, const std::string& lang,
                                          bond::Options options, Started on_started) {
    std::shared_ptr<HeldBond> held(new HeldBond(std::move(id), lang));
    held->limits_ = options.limits;
    // The thread's joiner holds the bond until its thread has been joined.
    held->worker_ = workers.start("bond " + held->id_, [held] {
        held->closed_ = true;
        auto callbacks = std::move(held->on_closed_);
        held->on_closed_.clear();
        for (auto& callback : callbacks) callback();
    });
    auto start = [held, options = std::move(options), on_started = std::move(on_started),
                  &network = workers.network()]() mutable {
        std::exception_ptr error = held->start_on_worker(std::move(options));
        boost::asio::post(network, [held, on_started = std::move(on_started), error] {
            on_started(held, error);
        });
    };
    held->worker_->set_idle_watch(held.get());
    held->worker_->submit(new_chain(), std::move(start));
    return held;
}

std::exception_ptr HeldBond::start_on_worker(bond::Options options) {
    try {
        if (closing_) throw TerminatedException(lang_, "the bond was closed before it started");
        options.on_output = [this](bond::Channel channel, std::string_view data) {
            deliver_output(channel, data);
        };
        bond::Bond started = bond::make_bond(lang_, std::move(options));
        // Another bond's interpreter that uses a proxy of one of this bond's objects has the
        // operation run here, on this bond's thread, in its chain.
        detail::set_object_runner(
            started, [weak = weak_from_this()](std::function<detail::Carried()> operation) {
                auto owner = weak.lock();
                HeldBond* borrower = operating_here;
                if (!owner || !borrower || borrower == owner.get()) return operation();
                auto result = std::make_shared<detail::Carried>();
                borrower->run_on(owner, [operation = std::move(operation), result](
                                            bond::Bond&, const bond::Limits&) {
                    *result = operation();
                    return Value();
                });
                return std::move(*result);
            });
        std::lock_guard lock(bond_mutex_);
        bond_.emplace(std::move(started));
    } catch (...) {
        start_error_ = std::current_exception();  // for the operations queued behind the start
        ended_ = true;
        worker_->finish();
        return start_error_;
    }
    // A pidfd names this process even after it has been reaped: no risk of signalling another.
    // (A pidfd is close-on-exec: no interpreter inherits it.)
    int pid = bond_->pid();
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    pid_ = pid;
    log().info("bond {} started: {}, pid {}", id_, lang_, pid);
    return nullptr;
}

BondWorker::Task HeldBond::task(std::weak_ptr<ClientConnection> requester, Operation operation,
                                Completion done, bond::Limits limits) {
    return [self = shared_from_this(), requester = std::move(requester),
            operation = std::move(operation), done = std::move(done), limits] {
        auto client = requester.lock();
        if (!client || client->closed())
            return done(nullptr, std::make_exception_ptr(TerminatedException(
                                     self->lang_, "the client that asked for it has gone")));
        // Counted before closing_ is read, as close() sets closing_ before it reads the count:
        // either close() sees this operation running, or the operation sees the bond closing.
        ++self->operations_;
        if (self->closing_ || !self->bond_) {
            --self->operations_;
            return done(nullptr,
                        self->start_error_ ? self->start_error_ : closed_error(self->lang_));
        }
        bool top_level = self->requesters_.empty();
        if (top_level) {
            self->top_requester_ = client->id();
            auto wall = limits.wall ? limits.wall : self->limits_.wall;
            self->wall_deadline_ = wall ? Clock::now() + *wall : Clock::time_point::max();
        }
        self->requesters_.push_back(requester);
        Value result;
        std::exception_ptr error;
        HeldBond* outer = std::exchange(operating_here, self.get());
        try {
            result = operation(*self->bond_, limits);
        } catch (...) {
            error = std::current_exception();
        }
        operating_here = outer;
        self->requesters_.pop_back();
        if (top_level) {
            self->top_requester_ = 0;
            self->wall_deadline_ = Clock::time_point::max();
        }
        if (!self->bond_->alive()) self->ended_ = true;
        --self->operations_;  // idle before the answer leaves: a client then sees it idle
        // Before the answer leaves, so that the client's next request, however soon it comes,
        // finds this thread waiting for it.
        if (top_level) self->borrow_input(client);
        done(std::move(result), std::move(error));
    };
}

void HeldBond::run(ChainId chain, std::weak_ptr<ClientConnection> requester, Operation operation,
                   const Completion& done, bond::Limits limits) {
    // Refused once the thread is ending: the bond was closed, or could not start (start_error_
    // was set before the thread stopped taking tasks, under the same lock).
    if (!worker_->submit(chain, task(std::move(requester), std::move(operation), done, limits)))
        done(nullptr, start_error_ ? start_error_ : closed_error(lang_));
}

void HeldBond::run_now(ChainId chain, std::weak_ptr<ClientConnection> requester,
                       Operation operation, Completion done, bond::Limits limits) {
    worker_->run_now(chain,
                     task(std::move(requester), std::move(operation), std::move(done), limits));
}

void HeldBond::borrow_input(const std::shared_ptr<ClientConnection>& client) {
    if (lent_ || !client || client->closed() || !client->keeps_calling(this) ||
        !worker_->start_watching())
        return;
    auto lease = client->lend_input([worker = std::weak_ptr<BondWorker>(worker_)] {
        if (auto alive = worker.lock()) alive->wake();
    });
    if (!lease) return worker_->stop_watching();
    lent_ = Lent{client, std::move(lease)};
}

bool HeldBond::wait_idle(int wake_fd) {
    if (!lent_) return false;
    pollfd watched[2] = {{lent_->lease->fd(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    if (::poll(watched, 2, -1) < 0) return true;  // a signal: look again
    if (watched[1].revents) {                     // a task came, or the input was taken back
        worker_->drain_wake();
        if (lent_->lease->taken_back()) end_idle();
        return true;
    }
    std::string line;
    switch (lent_->lease->read(line)) {
        case InputLease::Read::Nothing:
            return true;
        case InputLease::Read::Other:
        case InputLease::Read::TakenBack:
            end_idle();
            return true;
        case InputLease::Read::Line:
            break;
    }
    Lent lent = std::move(*lent_);
    lent_.reset();
    worker_->stop_watching();
    lent.client->take_lent_line(line, std::move(lent.lease), shared_from_this());
    return true;
}

void HeldBond::end_idle() {
    if (lent_) {
        lent_->lease->end();
        lent_.reset();
    }
    worker_->stop_watching();
}

void HeldBond::add_holder(std::uint64_t client) {
    std::lock_guard lock(holders_mutex_);
    holders_.insert(client);
}

void HeldBond::remove_holder(std::uint64_t client) {
    std::lock_guard lock(holders_mutex_);
    holders_.erase(client);
}

bool HeldBond::held_by(std::uint64_t client) const {
    std::lock_guard lock(holders_mutex_);
    return holders_.count(client) > 0;
}

std::size_t HeldBond::holder_count() const {
    std::lock_guard lock(holders_mutex_);
    return holders_.size();
}

detail::HostFunction HeldBond::client_function(std::weak_ptr<ClientConnection> client,
                                               std::string name) {
    return [weak = weak_from_this(), client = std::move(client),
            name = std::move(name)](detail::Carried& args) -> detail::Carried {
        auto self = weak.lock();
        auto connection = client.lock();
        if (!self) throw std::runtime_error("the bond is closed");
        if (!connection || connection->closed())
            throw std::runtime_error("the client that exported " + name + "() has disconnected");
        // The remote code's objects reach the client as handles of its own, and the handles in
        // its answer as the objects they name.
        Value handed =
            connection->objects()->hand_out(self->id_, detail::result_of(std::move(args)));
        auto awaited = self->worker_->make_awaited();
        auto id = connection->invoke(self->id_, name, handed, self->worker_->chain(), awaited);
        self->worker_->wait(*awaited, self->wall_deadline_);
        connection->forget_invoke(id);
        detail::CallArguments answer;
        connection->objects()->take_in(awaited->take(), answer);
        return {std::move(answer.values.at(0)), std::move(answer.objects)};
    };
}

detail::HostFunction HeldBond::proxy_function(const std::shared_ptr<HeldBond>& source,
                                              std::string name) {
    return [weak = weak_from_this(), source = std::weak_ptr<HeldBond>(source),
            lang = source->lang(), name = std::move(name)](detail::Carried& args) {
        auto self = weak.lock();
        auto from = source.lock();
        if (!self || !from || from->closing())
            throw TerminatedException(lang, "the proxied bond is closed");
        // Objects in the arguments and the result travel as objects (proxies where they are not
        // their own bond's), as with Bond::proxy.
        auto arguments = std::make_shared<detail::CallArguments>();
        arguments->values = std::move(args.value);
        arguments->objects = std::move(args.objects);
        auto result = std::make_shared<detail::Carried>();
        self->run_on(from, [name, arguments, result](bond::Bond& bond, const bond::Limits&) {
            bond::Result answer =
                bond.with_limits({}).call_result_with(name, std::move(*arguments));
            result->value = std::move(answer.value);
            for (const auto& object : answer.objects)
                result->objects.push_back(detail::state_of(object));
            return Value();
        });
        return std::move(*result);
    };
}

Value HeldBond::run_on(const std::shared_ptr<HeldBond>& other, Operation operation) {
    if (other->closing())
        throw TerminatedException(other->lang(), "bond " + other->id() + " is closed");
    worker_->start_waiting_for(*other->worker_);
    auto awaited = worker_->make_awaited();
    std::weak_ptr<ClientConnection> requester;
    if (!requesters_.empty()) requester = requesters_.back();
    other->run(worker_->chain(), requester, std::move(operation),
               [awaited](Value result, std::exception_ptr error) {
                   if (error)
                       awaited->set_error(std::move(error));
                   else
                       awaited->set_value(std::move(result));
               });
    worker_->wait(*awaited, wall_deadline_);
    worker_->stop_waiting();
    return awaited->take();
}

std::vector<std::string> HeldBond::exports() const {
    std::lock_guard lock(exports_mutex_);
    return exports_;
}

void HeldBond::record_exports(const bond::Bond& bond) {
    auto names = bond.exports();
    std::lock_guard lock(exports_mutex_);
    exports_ = std::move(names);
}

void HeldBond::deliver_output(bond::Channel channel, std::string_view data) {
    std::shared_ptr<ClientConnection> client;
    if (!requesters_.empty()) client = requesters_.back().lock();
    if (client)
        client->send_output(id_, channel, data);
    else
        log().debug("bond {}: output with no client to take it ({} bytes)", id_, data.size());
}

void HeldBond::close(std::function<void()> on_closed) {
    if (closed_) {
        if (on_closed) on_closed();
        return;
    }
    if (on_closed) on_closed_.push_back(std::move(on_closed));
    if (closing_.exchange(true)) return;
    if (busy()) {
        log().info("bond {} is busy: killing its interpreter (pid {})", id_, pid_.load());
        kill_interpreter();
        worker_->abort_waits();
    }
    worker_->submit(new_chain(), [self = shared_from_this()] { self->close_on_worker(); });
    worker_->finish();
}

void HeldBond::interrupt() {
    {
        std::lock_guard lock(bond_mutex_);
        if (bond_) bond_->interrupt();
    }
    if (busy()) worker_->interrupt_waits();
}

bool HeldBond::holds(const bond::Object& object) {
    std::lock_guard lock(bond_mutex_);
    return bond_ && bond_->holds(object);
}

void HeldBond::interrupt_for(std::uint64_t client) {
    if (top_requester_ == client) {
        log().info("bond {}: interrupting the call of client {}, which has let go of it", id_,
                   client);
        interrupt();
    }
}

void HeldBond::close_on_worker() {
    if (bond_) {
        try {
            bond_->close();
        } catch (const BondException& error) {
            log().warn("bond {}: {}", id_, error.what());
        }
        std::lock_guard lock(bond_mutex_);
        bond_.reset();
        log().info("bond {} closed ({}, pid {})", id_, lang_, pid_.load());
    }
    ended_ = true;
}

bool HeldBond::process_exited() const {
    int fd = pidfd_;
    if (fd < 0) return false;
    pollfd ready{fd, POLLIN, 0};
    return ::poll(&ready, 1, 0) == 1;
}

void HeldBond::kill_interpreter() {
    int fd = pidfd_;
    if (fd >= 0) ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
}

}  // namespace bond::daemon
