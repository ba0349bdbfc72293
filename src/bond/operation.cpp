#include "operation.hpp"

#include <algorithm>

namespace bond::detail {
namespace {

constexpr std::chrono::milliseconds kDefaultGrace{1000};
// The interrupt is sent again a quarter of the grace period after the first, and never later than
// this: a driver that missed the first one is then stopped long before it is killed.
constexpr std::chrono::milliseconds kLatestReminder{250};

Clock::time_point after(std::chrono::milliseconds duration) {
    // Saturates: a limit of milliseconds::max() is no limit, not an overflow.
    constexpr std::chrono::milliseconds longest = std::chrono::hours(24 * 365 * 100);
    return Clock::now() + std::clamp(duration, std::chrono::milliseconds(0), longest);
}

template <class T>
void take(std::optional<T>& field, const std::optional<T>& override) {
    if (override) field = override;
}

}  // namespace

Limits merge_limits(const Limits& bond, const Limits* override) {
    Limits limits = bond;
    if (override) {
        take(limits.wall, override->wall);
        take(limits.cpu, override->cpu);
        take(limits.memory, override->memory);
        take(limits.output, override->output);
        take(limits.grace, override->grace);
    }
    return limits;
}

std::string describe_duration(std::chrono::milliseconds duration) {
    auto ms = duration.count();
    if (ms < 1000) return std::to_string(ms) + " ms";
    std::string text = std::to_string(ms / 1000);
    if (auto fraction = ms % 1000) {
        std::string digits = std::to_string(1000 + fraction).substr(1);
        while (digits.back() == '0') digits.pop_back();
        text += "." + digits;
    }
    return text + " s";
}

std::string describe_size(std::size_t bytes) {
    constexpr std::size_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
    if (bytes >= GiB && bytes % GiB == 0) return std::to_string(bytes / GiB) + " GiB";
    if (bytes >= MiB && bytes % MiB == 0) return std::to_string(bytes / MiB) + " MiB";
    if (bytes >= KiB && bytes % KiB == 0) return std::to_string(bytes / KiB) + " KiB";
    return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

void Operation::begin(std::int64_t id, const Limits& limits) {
    id_ = id;
    limits_ = limits;
    wall_deadline_ = limits.wall ? after(*limits.wall) : Clock::time_point::max();
    grace_deadline_ = Clock::time_point::max();
    reminder_deadline_ = Clock::time_point::max();
    output_ = 0;
    stop_.reset();
}

void Operation::end() {
    id_ = 0;
    stop_.reset();
}

Value Operation::driver_limits() const {
    Value limits = Value::object();
    if (limits_.cpu) limits["cpu"] = std::chrono::duration<double>(*limits_.cpu).count();
    if (limits_.memory) limits["memory"] = *limits_.memory;
    return limits.empty() ? Value() : limits;
}

Clock::time_point Operation::deadline(Clock::time_point timeout_deadline) const {
    if (!stopping()) return std::min(timeout_deadline, wall_deadline_);
    return std::min({timeout_deadline, grace_deadline_, reminder_deadline_});
}

bool Operation::wall_expired(Clock::time_point now) const {
    return !stopping() && now >= wall_deadline_;
}

bool Operation::grace_expired(Clock::time_point now) const {
    return stopping() && now >= grace_deadline_;
}

bool Operation::take_reminder(Clock::time_point now) {
    if (!stopping() || now < reminder_deadline_) return false;
    reminder_deadline_ = Clock::time_point::max();
    return true;
}

std::size_t Operation::output_allowance(std::size_t size) {
    if (!limits_.output) return size;
    std::size_t allowed = std::min(size, *limits_.output - std::min(output_, *limits_.output));
    output_ += size;
    return allowed;
}

std::chrono::milliseconds Operation::grace() const {
    return limits_.grace.value_or(kDefaultGrace);
}

bool Operation::stop(const std::string& limit) {
    if (stopping()) return false;
    stop_ = limit;
    grace_deadline_ = after(grace());
    reminder_deadline_ = after(std::min(grace() / 4, kLatestReminder));
    return true;
}

std::string Operation::stop_message() const {
    const std::string& limit = *stop_;
    if (limit == "wall")
        return "the code ran longer than its time limit of " + describe_duration(*limits_.wall) +
               " and was stopped";
    if (limit == "cpu")
        return "the code used more than its CPU time limit of " + describe_duration(*limits_.cpu) +
               " and was stopped";
    if (limit == "memory")
        return "the code needed more than its memory limit of " +
               describe_size(limits_.memory.value_or(0)) + " and was stopped";
    if (limit == "output")
        return "the code wrote more than its output limit of " +
               describe_size(limits_.output.value_or(0)) + " and was stopped";
    return "the code was interrupted";
}

void Operation::throw_stop(const std::string& lang, const std::string& afterwards) const {
    std::string message = stop_message() + afterwards;
    if (stop_->empty()) throw Interrupted(lang, message);
    throw LimitExceeded(lang, *stop_, message);
}

}  // namespace bond::detail
