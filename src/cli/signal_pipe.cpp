#include "signal_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

namespace bond::cli {
namespace {

std::atomic<int> signal_write_end{-1};
std::atomic<bool> end_requested{false};
constexpr int kCaught[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
struct sigaction previous[sizeof kCaught / sizeof kCaught[0]];

extern "C" void on_signal(int number) {
    int saved_errno = errno;
    if (number == SIGTERM || number == SIGHUP) end_requested = true;
    unsigned char byte = static_cast<unsigned char>(number);
    // A full pipe already holds enough wake-ups; losing this byte loses nothing.
    [[maybe_unused]] auto written = ::write(signal_write_end.load(), &byte, 1);
    errno = saved_errno;
}

}  // namespace

SignalPipe::SignalPipe() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe2");
    read_end_ = ends[0];
    write_end_ = ends[1];
    signal_write_end = write_end_;
    end_requested = false;
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kCaught); ++i)
        ::sigaction(kCaught[i], &action, &previous[i]);
}

SignalPipe::~SignalPipe() {
    for (std::size_t i = 0; i < std::size(kCaught); ++i)
        ::sigaction(kCaught[i], &previous[i], nullptr);
    signal_write_end = -1;
    ::close(read_end_);
    ::close(write_end_);
}

SignalEvent SignalPipe::take() {
    unsigned char byte;
    if (::read(read_end_, &byte, 1) != 1) return SignalEvent::None;
    switch (byte) {
        case SIGINT:
            return SignalEvent::Interrupt;
        case SIGWINCH:
            return SignalEvent::Resize;
        default:
            return SignalEvent::End;
    }
}

bool SignalPipe::ending() const noexcept {
    return end_requested;
}

}  // namespace bond::cli
