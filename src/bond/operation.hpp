// One top-level operation (eval, eval_block, call) under its Limits: the deadlines the host waits
// against (wall, then the grace period once the code is asked to stop), the output budget, what
// the driver enforces itself (CPU, memory), and, once the operation has to stop, why, in words
// fit to show the code's author. Session owns one and consults it while it waits.
#pragma once

#include "../transport/child_process.hpp"

#include <bond/errors.hpp>
#include <bond/options.hpp>
#include <bond/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace bond::detail {

// The limits in force: the bond's, with each field `override` sets replacing the bond's.
Limits merge_limits(const Limits& bond, const Limits* override);

class Operation {
  public:
    // Tracks top-level request `id`, sent now.
    void begin(std::int64_t id, const Limits& limits);
    void end();
    bool running() const { return id_ != 0; }
    std::int64_t id() const { return id_; }

    // The limits the driver enforces itself, as the request's "limits" param; null when none.
    Value driver_limits() const;

    // The earliest of `timeout_deadline`, the wall deadline (until the operation is stopping) and
    // the reminder and grace deadlines (once it is).
    Clock::time_point deadline(Clock::time_point timeout_deadline) const;
    bool wall_expired(Clock::time_point now) const;
    bool grace_expired(Clock::time_point now) const;
    // Whether the interrupt is due to be sent once more; true once per stop. A driver can miss
    // the first one: its signal can land just before the code enters a blocking call.
    bool take_reminder(Clock::time_point now);

    // How many of `size` more bytes of output may be delivered; fewer once the budget is spent.
    std::size_t output_allowance(std::size_t size);

    // Marks the operation as stopping because of `limit` ("" for Bond::interrupt) and starts the
    // grace period; false if it was already stopping (the first reason stays).
    bool stop(const std::string& limit);
    bool stopping() const { return stop_.has_value(); }
    const std::string& stop_limit() const { return *stop_; }
    // Why the code was stopped, for the caller and for the remote code's exception.
    std::string stop_message() const;
    std::chrono::milliseconds grace() const;
    // The exception for the caller: Interrupted, or LimitExceeded naming the limit; `afterwards`
    // is added to the message ("; the interpreter was killed").
    [[noreturn]] void throw_stop(const std::string& lang, const std::string& afterwards = "") const;

  private:
    std::int64_t id_ = 0;
    Limits limits_;
    Clock::time_point wall_deadline_ = Clock::time_point::max();
    Clock::time_point grace_deadline_ = Clock::time_point::max();
    Clock::time_point reminder_deadline_ = Clock::time_point::max();
    std::size_t output_ = 0;
    std::optional<std::string> stop_;
};

// "500 ms", "2 s", "1.5 s"; "64 MiB", "1000 bytes": limits as a person reads them.
std::string describe_duration(std::chrono::milliseconds duration);
std::string describe_size(std::size_t bytes);

}  // namespace bond::detail
