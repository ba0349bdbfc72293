#include "interrupt_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>

namespace bond::cli {

InterruptWatcher::InterruptWatcher(SignalPipe& signals, ReplTarget& target)
    : signals_(signals), target_(target), stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
    if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    thread_ = std::thread([this] { watch(); });
}

InterruptWatcher::~InterruptWatcher() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
    ::close(stop_fd_);
}

void InterruptWatcher::watch() {
    for (;;) {
        pollfd waits[2] = {{signals_.fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(waits, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (waits[1].revents != 0) return;
        switch (signals_.take()) {
            case SignalEvent::Interrupt:
                interrupted_ = true;
                target_.interrupt();
                break;
            case SignalEvent::End:
                target_.interrupt();
                break;
            default:
                break;  // a window resize matters only to the line editor
        }
    }
}

}  // namespace bond::cli
