#include "client_poller.hpp"

#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <stdexcept>

namespace bond::daemon {
namespace {
int new_epoll() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot create an epoll set for the clients");
    return fd;
}
}  // namespace

ClientPoller::ClientPoller(boost::asio::io_context& io) : descriptor_(io, new_epoll()) {
    wait();
}

std::uint64_t ClientPoller::add(Handler handler) {
    handlers_[++last_key_] = std::move(handler);
    return last_key_;
}

void ClientPoller::remove(std::uint64_t key) {
    handlers_.erase(key);
}

void ClientPoller::wait() {
    descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                           [this](const boost::system::error_code& ec) {
                               if (ec) return;  // closed with the daemon
                               dispatch();
                               wait();
                           });
}

void ClientPoller::dispatch() {
    // Asio watches the set edge-triggered: everything ready is taken now. Every socket is armed
    // one-shot, so none is reported again before its handler has re-armed it.
    std::array<epoll_event, 64> events;
    for (;;) {
        int count = ::epoll_wait(fd(), events.data(), static_cast<int>(events.size()), 0);
        if (count < 0 && errno == EINTR) continue;
        for (int i = 0; i < count; ++i) {
            // Copied out: epoll_event is packed on x86-64, its u64 misaligned for a reference.
            std::uint64_t key = events[i].data.u64;
            std::uint32_t reported = events[i].events;
            auto found = handlers_.find(key);
            if (found == handlers_.end()) continue;  // removed since
            Handler handler = found->second;         // it may remove itself
            handler(reported);
        }
        if (count < static_cast<int>(events.size())) break;
    }
}

}  // namespace bond::daemon
