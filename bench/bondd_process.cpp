#include "bondd_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace bench {
namespace {
constexpr int kReadyFd = 3;
// Only a guard against a hang: an interpreter starts in well under a second.
constexpr auto kPoolDeadline = std::chrono::seconds(60);
}  // namespace

BonddProcess::BonddProcess(const std::string& executable,
                           const std::map<std::string, std::string>& environment,
                           const std::vector<std::string>& arguments) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bond_bench.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    directory_ = pattern;
    socket_path_ = directory_ + "/bondd.sock";
    std::vector<std::string> argv = {
        executable,    "--socket", socket_path_, "--ready-fd", std::to_string(kReadyFd),
        "--log-level", "info"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    process_ = std::make_unique<Subprocess>(Subprocess::Setup{
        .argv = argv, .environment = environment, .pipe_stderr = true, .ready_fd = kReadyFd});
    log_reader_ = std::thread([this] { read_log(); });
    LineReader ready(process_->ready_fd());
    std::string line;
    if (!ready.read_line(line)) {
        process_->wait();
        log_reader_.join();
        std::filesystem::remove_all(directory_);
        throw std::runtime_error("bondd did not start: " + log_tail());
    }
}

BonddProcess::~BonddProcess() {
    process_->terminate();
    process_->wait();
    if (log_reader_.joinable()) log_reader_.join();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

void BonddProcess::read_log() {
    LineReader log(process_->stderr_fd());
    std::string line;
    while (log.read_line(line)) {
        std::lock_guard lock(mutex_);
        if (line.find("warm pool: a ") != std::string::npos &&
            line.find(" interpreter is ready") != std::string::npos)
            ++pool_ready_;
        last_lines_.push_back(line);
        if (last_lines_.size() > 10) last_lines_.erase(last_lines_.begin());
        changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    log_ended_ = true;
    changed_.notify_all();
}

std::string BonddProcess::log_tail() {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& line : last_lines_) text += "\n  " + line;
    return text.empty() ? "(no log)" : text;
}

void BonddProcess::wait_for_pool(std::size_t count) {
    std::unique_lock lock(mutex_);
    bool ready =
        changed_.wait_for(lock, kPoolDeadline, [&] { return pool_ready_ >= count || log_ended_; });
    if (ready && pool_ready_ >= count) return;
    lock.unlock();
    throw std::runtime_error("bondd's warm pool did not refill: " + log_tail());
}

}  // namespace bench
