#include "subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace bench {
namespace {

std::runtime_error system_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

struct Pipe {
    int read = -1, write = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe2");
        read = fds[0];
        write = fds[1];
    }
};

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

}  // namespace

std::map<std::string, std::string> environment_with(
    const std::map<std::string, std::string>& overrides) {
    std::map<std::string, std::string> environment;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view text(*entry);
        auto equals = text.find('=');
        if (equals != std::string_view::npos)
            environment.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
    for (const auto& [name, value] : overrides) environment[name] = value;
    return environment;
}

Subprocess::Subprocess(const Setup& setup) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::vector<int> child_ends;
    auto connect = [&](bool piped, int child_fd, bool child_reads, int& parent_end) {
        if (!piped) {
            if (child_fd != 2 || setup.discard_stderr)
                posix_spawn_file_actions_addopen(&actions, child_fd, "/dev/null",
                                                 child_reads ? O_RDONLY : O_WRONLY, 0);
            return;
        }
        Pipe pipe;
        parent_end = child_reads ? pipe.write : pipe.read;
        int child_end = child_reads ? pipe.read : pipe.write;
        child_ends.push_back(child_end);
        posix_spawn_file_actions_adddup2(&actions, child_end, child_fd);  // dup2 clears CLOEXEC
    };
    connect(setup.pipe_stdin, 0, true, stdin_);
    connect(setup.pipe_stdout, 1, false, stdout_);
    connect(setup.pipe_stderr, 2, false, stderr_);
    if (setup.ready_fd >= 3) connect(true, setup.ready_fd, false, ready_);

    // The benchmark ignores SIGPIPE (make_bond does); its children start with the default.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> argv;
    for (const auto& word : setup.argv) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> environment_text;
    for (const auto& [name, value] : setup.environment)
        environment_text.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : environment_text) envp.push_back(entry.data());
    envp.push_back(nullptr);

    int failed = posix_spawnp(&pid_, argv[0], &actions, &attributes, argv.data(),
                              setup.environment.empty() ? environ : envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    for (int fd : child_ends) close(fd);
    if (failed != 0) {
        close_fd(stdin_), close_fd(stdout_), close_fd(stderr_), close_fd(ready_);
        errno = failed;
        throw system_error("cannot start " + setup.argv.at(0));
    }
}

Subprocess::~Subprocess() {
    close_stdin();
    close_fd(stdout_), close_fd(stderr_), close_fd(ready_);
    if (!waited_) {
        // A child that is not done by now is not going to be asked anything else.
        if (waitpid(pid_, &status_, WNOHANG) == 0) terminate();
        wait();
    }
}

void Subprocess::close_stdin() {
    close_fd(stdin_);
}

void Subprocess::terminate() {
    if (!waited_) kill(pid_, SIGTERM);
}

int Subprocess::wait() {
    if (!waited_) {
        while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
        }
        waited_ = true;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t written = write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            throw system_error("write");
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
}

bool LineReader::read_line(std::string& line) {
    constexpr std::size_t kChunk = 65536;
    for (;;) {
        const char* begin = buffer_.data() + start_;
        const void* newline = std::memchr(begin + scanned_, '\n', end_ - start_ - scanned_);
        if (newline) {
            std::size_t length = static_cast<const char*>(newline) - begin;
            line.assign(begin, length);
            start_ += length + 1;
            scanned_ = 0;
            if (start_ == end_) start_ = end_ = 0;
            return true;
        }
        scanned_ = end_ - start_;
        if (buffer_.size() - end_ < kChunk) {
            std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
            end_ -= start_;
            start_ = 0;
            if (buffer_.size() - end_ < kChunk)
                buffer_.resize(std::max(2 * buffer_.size(), end_ + kChunk));
        }
        ssize_t size;
        do size = read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        while (size < 0 && errno == EINTR);
        if (size <= 0) return false;
        end_ += static_cast<std::size_t>(size);
    }
}

std::string output_of(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& environment) {
    try {
        Subprocess child({.argv = argv,
                          .environment = environment,
                          .pipe_stdout = true,
                          .discard_stderr = true});
        std::string output;
        char chunk[4096];
        ssize_t size;
        while ((size = read(child.stdout_fd(), chunk, sizeof chunk)) > 0)
            output.append(chunk, size);
        child.wait();
        return output;
    } catch (const std::exception&) {
        return "";
    }
}

}  // namespace bench
