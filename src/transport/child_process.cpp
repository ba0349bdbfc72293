#include "child_process.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async_pipe.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace bond::detail {
namespace bp = boost::process;
namespace {

// Runs in the child between fork and exec. The working directory is changed here because boost's
// start_dir ignores a failing chdir. A process group of its own lets stopping the child also stop
// what it started, and keeps a terminal's Ctrl+C for the host. Every descriptor above stderr is
// marked close-on-exec: the interpreter inherits no other bond's pipes (boost's limit_handles
// would do this but closes the child's stdout in Boost 1.74). SIGPIPE (which make_bond ignores)
// and SIGCHLD (which a host may ignore) go back to their defaults, since an ignored signal stays
// ignored across exec: a wrapper such as bwrap or sudo could not wait for the interpreter with
// SIGCHLD ignored, and shell pipelines of the remote code expect SIGPIPE.
struct ChildSetup : bp::extend::handler {
    ChildSetup(std::string directory, int signal)
        : working_directory(std::move(directory)), death_signal(signal), parent(::getpid()) {}
    std::string working_directory;  // empty: the host's
    int death_signal;               // 0: none
    pid_t parent;

    template <class Executor>
    void on_exec_setup(Executor&) const {
        // The parent checked the directory; this catches what changed since. (boost's set_error
        // cannot be used here: its two writes race with the parent's single read in 1.74.)
        if (!working_directory.empty() && ::chdir(working_directory.c_str()) != 0) {
            constexpr char message[] = "bond: cannot enter the working directory\n";
            [[maybe_unused]] auto written = ::write(2, message, sizeof message - 1);
            ::_exit(127);
        }
        ::setpgid(0, 0);
        // The host may have died before the signal was asked for: then nothing would send it.
        if (death_signal != 0 &&
            (::prctl(PR_SET_PDEATHSIG, death_signal) != 0 || ::getppid() != parent))
            ::_exit(127);
        ::signal(SIGPIPE, SIG_DFL);
        ::signal(SIGCHLD, SIG_DFL);
        ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    }
};

std::string resolve_program(const std::string& program,
                            const std::optional<std::map<std::string, std::string>>& env) {
    if (program.find('/') != std::string::npos) {
        if (::access(program.c_str(), X_OK) != 0)
            throw std::runtime_error("interpreter not found: '" + program +
                                     "' is not an executable file");
        return program;
    }
    std::vector<boost::filesystem::path> directories;
    if (env && env->count("PATH")) {
        std::string path = env->at("PATH");
        for (std::size_t start = 0;;) {
            std::size_t end = path.find(':', start);
            directories.emplace_back(path.substr(start, end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    } else {
        directories = boost::this_process::path();
    }
    boost::filesystem::path found = bp::search_path(program, directories);
    if (found.empty())
        throw std::runtime_error("interpreter not found: '" + program + "' is not in PATH");
    return found.string();
}

bp::environment make_environment(const std::optional<std::map<std::string, std::string>>& env) {
    if (!env) return boost::this_process::environment();
    bp::environment environment;
    environment.clear();
    // set(), not operator[]: Boost 1.74's find() compares the key's length of every entry,
    // reading past the end of a shorter one (AddressSanitizer found it).
    for (const auto& [key, value] : *env) environment.set(key, value);
    return environment;
}

void set_close_on_exec(int fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

ChildProcess::ChildProcess(boost::asio::io_context& io, const std::vector<std::string>& argv,
                           const std::optional<std::filesystem::path>& cwd,
                           const std::optional<std::map<std::string, std::string>>& env,
                           int death_signal)
    : io_(io), stdin_(io), stdout_(io), stderr_(io), exit_watch_(io) {
    if (argv.empty()) throw std::runtime_error("empty command");
    std::string program = resolve_program(argv[0], env);
    if (cwd && ::access(cwd->c_str(), X_OK) != 0)
        throw std::runtime_error("cannot enter the working directory " + cwd->string() + ": " +
                                 std::strerror(errno));
    std::vector<std::string> arguments(argv.begin() + 1, argv.end());
    std::error_code error;
    bp::async_pipe stdin_pipe(io), stdout_pipe(io), stderr_pipe(io);
    child_ =
        bp::child(bp::exe = program, bp::args = arguments,
                  bp::std_in<stdin_pipe, bp::std_out> stdout_pipe, bp::std_err > stderr_pipe,
                  make_environment(env), ChildSetup(cwd ? cwd->string() : "", death_signal), error);
    if (error) throw std::runtime_error("cannot start '" + program + "': " + error.message());
    pid_ = child_.id();
    // The host's ends as plain descriptors: PipeChannel waits for them to become readable and
    // reads and writes them without blocking (see pipe_channel.hpp).
    stdin_ = std::move(stdin_pipe).sink();
    stdout_ = std::move(stdout_pipe).source();
    stderr_ = std::move(stderr_pipe).source();
    // Other fork()s of the host must not inherit these pipes, or EOF would never reach either side.
    set_close_on_exec(stdin_.native_handle());
    set_close_on_exec(stdout_.native_handle());
    set_close_on_exec(stderr_.native_handle());
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) throw std::runtime_error("pidfd_open failed: the kernel is older than 5.3");
    exit_watch_.assign(pidfd);
    watch_exit();
}

ChildProcess::~ChildProcess() {
    try {
        if (!reaped_) stop(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
    } catch (...) {  // a destructor must not throw (bad_alloc); the process is left to exit
    }
    child_.detach();  // reaped by stop(); keeps boost's destructor from terminating it again
}

void ChildProcess::watch_exit() {
    exit_watch_.async_wait(boost::asio::posix::descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                               if (!ec) exited_ = true;
                           });
}

bool ChildProcess::wait_until(Clock::time_point deadline) {
    if (!exited_) {
        bool expired = false, timer_done = false;
        boost::asio::steady_timer timer(io_, deadline);
        timer.async_wait([&](const boost::system::error_code& ec) {
            expired = !ec;
            timer_done = true;
        });
        while (!exited_ && !expired) run_one();
        timer.cancel();
        while (!timer_done) run_one();  // the handler references this frame
        if (!exited_) return false;
    }
    reap();
    return true;
}

void ChildProcess::run_one() {
    if (io_.stopped()) io_.restart();
    io_.run_one();
}

void ChildProcess::reap() {
    if (reaped_) return;
    reaped_ = true;
    // Whatever the process started in its group goes with it. Until the zombie is reaped its pid,
    // and so the group id, cannot be reused; a host that ignores SIGCHLD has no zombies, and then
    // the group may be gone and its id reused, so it is left alone.
    struct sigaction child_signal {};
    ::sigaction(SIGCHLD, nullptr, &child_signal);
    bool auto_reaped =
        child_signal.sa_handler == SIG_IGN || (child_signal.sa_flags & SA_NOCLDWAIT) != 0;
    if (!auto_reaped) ::kill(-pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) exit_status_ = status;
}

void ChildProcess::close_stdin() {
    boost::system::error_code ignored;
    stdin_.close(ignored);
}

void ChildProcess::close_pipes() {
    boost::system::error_code ignored;
    stdin_.close(ignored);
    stdout_.close(ignored);
    stderr_.close(ignored);
    if (reaped_) exit_watch_.close(ignored);
}

void ChildProcess::signal_group(int signal) {
    if (::kill(-pid_, signal) != 0) ::kill(pid_, signal);  // no group if setpgid failed
}

void ChildProcess::stop(std::chrono::milliseconds grace, std::chrono::milliseconds term_grace) {
    if (pid_ < 0 || reaped_) return;
    close_stdin();
    if (wait_until(Clock::now() + grace)) return;
    signal_group(SIGTERM);
    if (wait_until(Clock::now() + term_grace)) return;
    signal_group(SIGKILL);
    wait_until(Clock::now() + std::chrono::hours(1));  // SIGKILL cannot be refused
}

std::optional<int> ChildProcess::exit_code() const {
    if (!reaped_ || !exit_status_ || !WIFEXITED(*exit_status_)) return std::nullopt;
    return WEXITSTATUS(*exit_status_);
}

std::string ChildProcess::exit_description() const {
    if (!reaped_) return exited_ ? "exited" : "is still running";
    if (!exit_status_) return "exited (its status was collected elsewhere)";
    int status = *exit_status_;
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return "was killed by signal " + std::to_string(WTERMSIG(status)) +
               (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "ended with status " + std::to_string(status);
}

}  // namespace bond::detail
