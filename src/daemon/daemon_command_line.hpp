// bondd's command line: its options, added to any CLI::App (bondd's own, or the `serve`
// sub-command of the `bond` command), and what runs once they are parsed. One definition, so that
// `bond serve` and `bondd` take exactly the same options.
#pragma once

#include "daemon_options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bond::daemon {

class DaemonCommandLine {
  public:
    DaemonCommandLine() = default;
    // The options are bound to this object's members: it stays where it is.
    DaemonCommandLine(const DaemonCommandLine&) = delete;
    DaemonCommandLine& operator=(const DaemonCommandLine&) = delete;

    // Adds every option of bondd to `app`, with their checks and the rules between them; touches
    // nothing else of `app` (its description, version flag, or other options are the caller's).
    // `app` must not outlive this object.
    void add_to(CLI::App& app);
    // Once `app` has parsed the arguments: sets up logging, then runs the daemon in the
    // foreground until SIGTERM or SIGINT (or the --stdio client has gone). Returns the exit
    // status; an option that is wrong in a way the parser cannot see, or a daemon that cannot
    // start, is printed on stderr as "bondd: <reason>" and returns 1.
    int run();

  private:
    // The options as given; turned into options_ by run().
    DaemonOptions options_;
    std::string socket_, listen_, token_file_, log_level_ = "info";
    std::vector<std::string> pools_;  // LANG=N each
    bool log_traffic_ = false;
    int ready_fd_ = -1;
    std::int64_t auth_timeout_ms_ = options_.auth_timeout.count();
};

}  // namespace bond::daemon
