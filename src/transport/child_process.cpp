#include "child_process.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/process/args.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace bond::detail {
namespace bp = boost::process;
namespace {

// Runs in the child between fork and exec. The working directory is changed here because boost's
// start_dir ignores a failing chdir. A process group of its own lets stopping the child also stop
// what it started, and keeps a terminal's Ctrl+C for the host. Every descriptor above stderr is
// marked close-on-exec: the interpreter inherits no other bond's pipes (boost's limit_handles
// would do this but closes the child's stdout in Boost 1.74).
struct ChildSetup : bp::extend::handler {
    explicit ChildSetup(std::string directory) : working_directory(std::move(directory)) {}
    std::string working_directory;  // empty: the host's

    template <class Executor>
    void on_exec_setup(Executor& executor) const {
        if (!working_directory.empty() && ::chdir(working_directory.c_str()) != 0) {
            executor.set_error(std::error_code(errno, std::system_category()),
                               "cannot enter the working directory");
            ::_exit(EXIT_FAILURE);
        }
        ::setpgid(0, 0);
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
    for (const auto& [key, value] : *env) environment[key] = value;
    return environment;
}

void set_close_on_exec(int fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

ChildProcess::ChildProcess(boost::asio::io_context& io, const std::vector<std::string>& argv,
                           const std::optional<std::filesystem::path>& cwd,
                           const std::optional<std::map<std::string, std::string>>& env)
    : io_(io), stdin_(io), stdout_(io), stderr_(io), exit_watch_(io) {
    if (argv.empty()) throw std::runtime_error("empty command");
    std::string program = resolve_program(argv[0], env);
    std::vector<std::string> arguments(argv.begin() + 1, argv.end());
    std::error_code error;
    child_ = bp::child(bp::exe = program, bp::args = arguments,
                       bp::std_in<stdin_, bp::std_out> stdout_, bp::std_err > stderr_,
                       make_environment(env), ChildSetup(cwd ? cwd->string() : ""), error);
    if (error)
        throw std::runtime_error("cannot start '" + program + "': " + error.message() +
                                 (cwd ? " (working directory " + cwd->string() + ")" : ""));
    pid_ = child_.id();
    // Other fork()s of the host must not inherit these pipes, or EOF would never reach either side.
    set_close_on_exec(stdin_.native_sink());
    set_close_on_exec(stdout_.native_source());
    set_close_on_exec(stderr_.native_source());
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) throw std::runtime_error("pidfd_open failed: the kernel is older than 5.3");
    exit_watch_.assign(pidfd);
}

ChildProcess::~ChildProcess() {
    stop(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
    child_.detach();  // reaped by stop(); keeps boost's destructor from terminating it again
}

bool ChildProcess::wait_until(Clock::time_point deadline) {
    if (exit_status_) return true;
    bool exited = false, expired = false;
    int handlers_pending = 2;  // both handlers reference this frame: both must run before return
    boost::asio::steady_timer timer(io_, deadline);
    exit_watch_.async_wait(boost::asio::posix::descriptor::wait_read,
                           [&](const boost::system::error_code& ec) {
                               exited = !ec;
                               --handlers_pending;
                           });
    timer.async_wait([&](const boost::system::error_code& ec) {
        expired = !ec;
        --handlers_pending;
    });
    while (handlers_pending > 0) {
        if (exited || expired) {
            exit_watch_.cancel();
            timer.cancel();
        }
        if (io_.stopped()) io_.restart();
        io_.run_one();
    }
    if (!exited) return false;
    // Whatever the process started in its group goes with it. Until the zombie is reaped its pid
    // (and so the group id) cannot be reused, which makes this signal safe.
    ::kill(-pid_, SIGKILL);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) exit_status_ = status;
    return true;
}

void ChildProcess::signal_group(int signal) {
    if (::kill(-pid_, signal) != 0) ::kill(pid_, signal);  // no group if setpgid failed
}

void ChildProcess::stop(std::chrono::milliseconds grace, std::chrono::milliseconds term_grace) {
    if (pid_ < 0 || exit_status_) return;
    boost::system::error_code ignored;
    stdin_.close(ignored);
    if (wait_until(Clock::now() + grace)) return;
    signal_group(SIGTERM);
    if (wait_until(Clock::now() + term_grace)) return;
    signal_group(SIGKILL);
    wait_until(Clock::now() + std::chrono::hours(1));  // SIGKILL cannot be refused
}

std::string ChildProcess::exit_description() const {
    if (!exit_status_) return "still running";
    int status = *exit_status_;
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return "killed by signal " + std::to_string(WTERMSIG(status)) +
               (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "ended with status " + std::to_string(status);
}

}  // namespace bond::detail
