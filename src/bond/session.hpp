// A Session is one live bond: it starts the co-process and injects the driver, then gives the
// protocol's messages their meaning. Every wait for a reply is here (await_reply), and so is the
// serving of the remote's requests (exported functions) that arrive while waiting, to any depth.
// Single-threaded: one thread at a time uses a Session; only interrupt() may be called from another
// thread, and it only posts work to the session's io_context.
#pragma once

#include "../protocol/jsonrpc.hpp"
#include "../transport/child_process.hpp"
#include "../transport/pipe_channel.hpp"
#include "driver_registry.hpp"
#include "operation.hpp"

#include <bond/bond.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace bond::detail {

class Session {
  public:
    Session(const DriverSpec& driver, Options options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Sends one request and serves the remote until its reply; the reply's error as an exception.
    // A top-level eval, eval_block or call runs under the bond's limits, each field `limits` sets
    // replacing the bond's.
    Value request(std::string_view method, Value params, const Limits* limits = nullptr);
    Value call(std::string_view name, CallArguments arguments, const Limits* limits = nullptr);
    // Thread-safe: stops the operation running now, if any (Interrupted).
    void interrupt();
    void export_function(std::string_view name, ExportedFunction function);
    std::vector<std::string> exports() const;
    void check_ref_owner(std::uint64_t owner) const;

    void close();
    bool alive() const { return alive_; }
    const std::string& lang() const { return lang_; }
    std::size_t depth() const { return depth_; }
    int pid() const { return child_->pid(); }
    std::uint64_t id() const { return id_; }

  private:
    void start(const DriverSpec& driver);
    std::vector<std::string> command_line(const DriverSpec& driver) const;
    Value await_reply(std::int64_t id);
    enum class Waiting { ForDriver, ForReply };
    // The next protocol line; end of file, the deadline or an oversized line end the bond.
    std::string next_line(Clock::time_point deadline, Waiting waiting,
                          const std::string& startup_stdout = {});
    [[noreturn]] void fail_unread(PipeChannel::ReadStatus status, Waiting waiting,
                                  const std::string& startup_stdout = {});
    // A deadline of the running operation or of `timeout` may have passed: act on it.
    void on_deadline(Clock::time_point timeout_deadline);
    // Asks the running code to stop (`limit` "" for interrupt()); `tell_driver` sends the driver
    // the interrupt notification (not needed when the driver itself reported the limit).
    void begin_stop(const std::string& limit, bool tell_driver);
    // The interrupt notification for the running operation; sent again partway through the grace
    // period (Operation::take_reminder), which drivers ignore once they are stopping the code.
    void send_interrupt();
    // A -32002 reply: the driver stopped the code (a limit it enforces, or our interrupt).
    void take_stop_reply(const Message& reply);
    // Ends the process after a stop it did not obey, or that it could not survive, and throws the
    // stop's exception; the bond is dead.
    [[noreturn]] void fail_stopped(const std::string& afterwards);
    static Clock::time_point deadline_after(std::chrono::milliseconds timeout);
    void serve_remote_request(const Message& request);
    void reply_error(std::int64_t id, int code, const std::string& message);
    void handle_notification(const Message& notification);
    void deliver_output(const Value& params);
    void emit_output(Channel channel, std::string_view text);
    void on_stderr(std::string_view chunk);
    void send(std::string line);
    void log_received(const std::string& line);
    [[noreturn]] void throw_reply_error(const Message& reply);
    // Each ends the co-process and throws; the bond is dead afterwards.
    [[noreturn]] void fail_terminated(const std::string& when);
    [[noreturn]] void fail_timeout(const std::string& when);
    [[noreturn]] void fail_protocol(const std::string& problem);
    void end_process(std::chrono::milliseconds grace, std::string reason);
    template <class Exception>
    [[noreturn]] void fail_with(Exception error);  // remembers `error` as why the bond died
    [[noreturn]] void rethrow_fatal_error();
    void ensure_alive() const;
    // Once the process is gone: drops the exports, closes the descriptors.
    void release_resources();

    Options options_;
    std::string lang_;
    std::uint64_t id_;
    // Declared before the process and channel: their handlers live in it.
    boost::asio::io_context io_;
    std::unique_ptr<ChildProcess> child_;
    std::unique_ptr<PipeChannel> channel_;

    std::unordered_map<std::string, std::shared_ptr<ExportedFunction>> exports_;
    Operation operation_;                             // the top-level operation running now
    std::atomic<std::int64_t> running_operation_{0};  // its id, for interrupt(); 0 when idle
    std::int64_t last_request_id_ = 0;
    std::size_t depth_ = 0;
    bool alive_ = false;
    std::string end_reason_;          // why the bond is no longer alive
    std::exception_ptr fatal_error_;  // the exception that ended it, if one did

    bool in_output_callback_ = false;  // on_output runs: the bond must not be used from it
    bool driver_started_ = false;      // the driver's ready mark was seen on stderr
    std::string startup_stderr_;       // stderr before that mark: start-up diagnostics
    std::string stderr_tail_;          // the last KiBs of stderr, for TerminatedException
};

}  // namespace bond::detail
