// While an operation runs on the REPL's thread, a watcher thread turns Ctrl+C into the target's
// interrupt() (and so does a closed terminal, which also ends the session once the operation is
// over).
#pragma once
#include "repl_target.hpp"
#include "signal_pipe.hpp"

#include <atomic>
#include <thread>

namespace bond::cli {

class InterruptWatcher {
  public:
    InterruptWatcher(SignalPipe& signals, ReplTarget& target);
    ~InterruptWatcher();  // stops watching before it returns
    InterruptWatcher(const InterruptWatcher&) = delete;
    InterruptWatcher& operator=(const InterruptWatcher&) = delete;

    // Whether Ctrl+C came while watching.
    bool interrupted() const noexcept { return interrupted_; }

  private:
    void watch();

    SignalPipe& signals_;
    ReplTarget& target_;
    int stop_fd_;
    std::atomic<bool> interrupted_{false};
    std::thread thread_;
};

}  // namespace bond::cli
