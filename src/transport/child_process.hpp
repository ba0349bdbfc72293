// One co-process and its three pipes. It is the only owner of the process and holds the one
// shutdown sequence used by close, timeouts, protocol errors and the destructor alike:
// close stdin, wait; SIGTERM to its process group, wait; SIGKILL to the group, wait. Once the
// process has exited, what is left of its group is killed.
// Single-threaded: every wait runs the io_context of the bond that owns it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/process/child.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bond::detail {

using Clock = std::chrono::steady_clock;

class ChildProcess {
  public:
    // Starts argv[0] (searched in the PATH of `env`, or the host's) in a new process group.
    // Throws std::runtime_error with a message fit for a user when it cannot be started.
    // `death_signal` (0: none) is sent to it when the thread that starts it ends, the host's
    // death included: a container tool asked so stops its container rather than leave it.
    ChildProcess(boost::asio::io_context& io, const std::vector<std::string>& argv,
                 const std::optional<std::filesystem::path>& cwd,
                 const std::optional<std::map<std::string, std::string>>& env,
                 int death_signal = 0);
    ~ChildProcess();

    // The host's ends of the child's stdin, stdout and stderr pipes.
    boost::asio::posix::stream_descriptor& stdin_pipe() { return stdin_; }
    boost::asio::posix::stream_descriptor& stdout_pipe() { return stdout_; }
    boost::asio::posix::stream_descriptor& stderr_pipe() { return stderr_; }
    int pid() const { return pid_; }

    // True once the process has ended (it may still have to be reaped).
    bool exited() const { return exited_; }
    // Waits until the process ends or `deadline` passes, running the io_context meanwhile; once
    // it has ended, reaps it and kills what is left of its process group.
    bool wait_until(Clock::time_point deadline);
    void close_stdin();
    // Closes the host's ends of all three pipes (and, once reaped, the pidfd): their pending
    // operations end as aborted.
    void close_pipes();
    // The shutdown sequence; `grace` is how long the process may take to exit on its own after
    // its stdin is closed, `term_grace` how long after SIGTERM. Returns at once if it has exited.
    void stop(std::chrono::milliseconds grace, std::chrono::milliseconds term_grace);
    // What became of the process, to follow "the interpreter": "exited with status 1", "was
    // killed by signal 9 (SIGKILL)", or "is still running".
    std::string exit_description() const;
    // The status the process exited with by itself; none when a signal ended it or it has not
    // been reaped (yet, or by this object).
    std::optional<int> exit_code() const;

  private:
    void signal_group(int signal);
    void watch_exit();
    void reap();
    void run_one();
    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor stdin_, stdout_, stderr_;
    boost::process::child child_;
    int pid_ = -1;
    boost::asio::posix::stream_descriptor exit_watch_;  // a pidfd: readable once the process exits
    bool exited_ = false;                               // exit_watch_ became readable
    bool reaped_ = false;
    std::optional<int> exit_status_;  // as from waitpid; none if another reaper took it
};

}  // namespace bond::detail
