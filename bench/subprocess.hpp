// A program the benchmark starts with plain POSIX (posix_spawn, pipes, blocking reads and
// writes): the floor loops, the interpreters alone, bondd, the Python client. Nothing of the
// bond library stands between the benchmark and these, so they measure only themselves.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// The benchmark's own environment with `overrides` set on top, as NAME=VALUE strings.
std::map<std::string, std::string> environment_with(
    const std::map<std::string, std::string>& overrides);

class Subprocess {
  public:
    struct Setup {
        std::vector<std::string> argv{};
        std::map<std::string, std::string> environment{};  // empty: the benchmark's own
        bool pipe_stdin = false;                           // else /dev/null
        bool pipe_stdout = false;                          // else /dev/null
        bool pipe_stderr = false;  // else the benchmark's stderr, or /dev/null:
        bool discard_stderr = false;
        int ready_fd = -1;  // >= 3: a pipe the child writes on this descriptor number
    };

    explicit Subprocess(const Setup& setup);
    ~Subprocess();  // closes the pipes, then waits; a child still running gets SIGTERM first
    Subprocess(const Subprocess&) = delete;
    Subprocess& operator=(const Subprocess&) = delete;

    pid_t pid() const { return pid_; }
    int stdin_fd() const { return stdin_; }
    int stdout_fd() const { return stdout_; }
    int stderr_fd() const { return stderr_; }
    int ready_fd() const { return ready_; }
    void close_stdin();
    // Waits for the exit; the status as the shell shows it (128 + signal when killed).
    int wait();
    void terminate();

  private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1, stderr_ = -1, ready_ = -1;
    bool waited_ = false;
    int status_ = 0;
};

// Writes all of `data`; throws std::runtime_error when the reader is gone.
void write_all(int fd, std::string_view data);

// Lines read from a descriptor with blocking reads.
class LineReader {
  public:
    explicit LineReader(int fd) : fd_(fd) {}
    // The next line without its '\n'; false at end of file.
    bool read_line(std::string& line);

  private:
    int fd_;
    std::vector<char> buffer_;  // grows to the longest line; never shrinks nor is zeroed again
    std::size_t start_ = 0;     // where the unread bytes begin
    std::size_t end_ = 0;       // where they end
    std::size_t scanned_ = 0;   // bytes from start_ known to hold no '\n'
};

// Runs argv to its end (in `environment`, if not empty) and returns its stdout (stderr
// discarded); "" if it cannot start.
std::string output_of(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& environment = {});

}  // namespace bench
