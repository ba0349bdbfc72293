// bondd, started by the benchmark on a Unix socket of its own in a temporary directory, with its
// log read on a thread of its own: the log says when the warm pool has an interpreter ready.
#pragma once

#include "subprocess.hpp"

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bench {

class BonddProcess {
  public:
    // Returns once bondd listens. `arguments` are added to its command line (--pool LANG=N).
    BonddProcess(const std::string& executable,
                 const std::map<std::string, std::string>& environment,
                 const std::vector<std::string>& arguments);
    ~BonddProcess();  // SIGTERM: bondd closes its bonds and removes its socket
    BonddProcess(const BonddProcess&) = delete;
    BonddProcess& operator=(const BonddProcess&) = delete;

    const std::string& socket_path() const { return socket_path_; }
    pid_t pid() const { return process_->pid(); }
    // Waits until the warm pool has had `count` interpreters ready since bondd started.
    void wait_for_pool(std::size_t count);

  private:
    void read_log();
    std::string log_tail();

    std::string directory_, socket_path_;
    std::unique_ptr<Subprocess> process_;
    std::thread log_reader_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t pool_ready_ = 0;
    bool log_ended_ = false;
    std::vector<std::string> last_lines_;
};

}  // namespace bench
