// Processes as /proc shows them. Every reader goes through an istream, so a process that ends
// between the open and the read (the read fails with ESRCH) reads as absent instead of throwing.
#pragma once

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// The process's parent (0 when it has ended).
inline int parent_of(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return 0;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    auto end_of_name = text.rfind(')');
    if (end_of_name == std::string::npos) return 0;
    std::istringstream rest(text.substr(end_of_name + 1));
    std::string state;
    int parent = 0;
    rest >> state >> parent;
    return parent;
}

// The pids of every process now running.
inline std::vector<int> running_processes() {
    std::vector<int> pids;
    std::error_code error;
    for (std::filesystem::directory_iterator it("/proc", error), end; !error && it != end;
         it.increment(error)) {
        std::string name = it->path().filename();
        if (name.find_first_not_of("0123456789") == std::string::npos)
            pids.push_back(std::stoi(name));
    }
    return pids;
}

inline std::vector<int> children_of(int pid) {
    std::vector<int> children;
    for (int candidate : running_processes())
        if (parent_of(candidate) == pid) children.push_back(candidate);
    return children;
}

// The process's arguments, each ended by a NUL ("" when it has ended).
inline std::string command_line_of(int pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
    std::ostringstream text;
    text << file.rdbuf();  // a failed read sets failbit on `text`; it does not throw
    return text.str();
}

// Waits (up to a guard against hangs) until the process, a child not yet reaped or any other,
// has ended: its pidfd is readable. False if it did not end in time; true if it is gone already.
inline bool wait_for_end(int pid, std::chrono::milliseconds guard) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return true;  // already gone
    pollfd ready{pidfd, POLLIN, 0};
    bool ended = ::poll(&ready, 1, static_cast<int>(guard.count())) == 1;
    ::close(pidfd);
    return ended;
}
