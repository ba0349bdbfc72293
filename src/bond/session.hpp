// A Session is one live bond: it starts the co-process and injects the driver, then gives the
// protocol's messages their meaning: requests under limits, the remote's requests served (exported
// functions, lent objects), output delivered, stops enforced. Its Peer sends, matches replies to
// requests and hands it what comes meanwhile, to any depth; its ObjectTables hold the objects the
// messages carry. Single-threaded: one thread at a time uses a Session; only interrupt() and
// queue_release() may be called from another thread (interrupt() only posts work to its
// io_context).
#pragma once

#include "../protocol/jsonrpc.hpp"
#include "../protocol/peer.hpp"
#include "../transport/child_process.hpp"
#include "../transport/pipe_channel.hpp"
#include "driver_registry.hpp"
#include "object_tables.hpp"
#include "operation.hpp"

#include <bond/bond.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace bond::detail {

class Session : public std::enable_shared_from_this<Session>, private PeerHandler {
  public:
    Session(const DriverSpec& driver, Options options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Sends one request and serves the remote until its reply; the reply's error as an exception.
    // A top-level eval, eval_block or call runs under the bond's limits, each field `limits` sets
    // replacing the bond's. The result must be a value: an object in it is a
    // SerializationException that names object() and call_object().
    Value request(std::string_view method, Value params, const Limits* limits = nullptr);
    // The operations whose arguments and results may hold Objects, each result shaped by `keep`
    // (Keep::Object asks the interpreter to keep the whole result as an object).
    Carried call(std::string_view name, CallArguments arguments, Keep keep,
                 const Limits* limits = nullptr);
    Carried eval(std::string_view code, Keep keep, const Limits* limits = nullptr);
    // Operations on object `number` of this interpreter's table; a null method or name means the
    // object itself (calling it; its value).
    Carried invoke(std::uint64_t number, const std::string* method, CallArguments arguments,
                   Keep keep);
    Carried get(std::uint64_t number, const std::string* name, Keep keep);
    void set(std::uint64_t number, const std::string& name, CallArguments value);
    // invoke, get and set run through `runner` (set before any use): bondd, whose bonds are
    // each used by one thread, runs them on this bond's thread whichever thread asks (another
    // bond's, whose interpreter uses a proxy of the object).
    void set_object_runner(ObjectRunner runner) { object_runner_ = std::move(runner); }
    // `result` as a plain value; SerializationException when it holds objects (`what` names the
    // operation for the message).
    Value plain_result(Carried result, std::string_view what) const;
    // Thread-safe: object `number` of the interpreter's table is no longer held here; the
    // interpreter is told with the next message the host sends.
    void queue_release(std::uint64_t number) { objects_.queue_release(number); }
    // Objects of other bonds this interpreter holds proxies of.
    std::size_t lent_count() const { return objects_.lent_count(); }
    // Thread-safe: stops the operation running now, if any (Interrupted).
    void interrupt();
    void export_function(std::string_view name, HostFunction function);
    std::vector<std::string> exports() const;
    void check_ref_owner(std::uint64_t owner) const;

    void close();
    bool alive() const { return alive_; }
    const std::string& lang() const { return lang_; }
    const std::string& version() const { return version_; }  // the driver's, from `ready`
    std::size_t depth() const { return peer_ ? peer_->depth() : 0; }
    int pid() const { return child_->pid(); }
    std::uint64_t id() const { return id_; }

  private:
    void start(const DriverSpec& driver);
    std::vector<std::string> command_line(const DriverSpec& driver) const;
    // The core of every request: objects placed for this interpreter, the reply's objects taken.
    Carried exchange(std::string_view method, Value params,
                     const std::vector<std::shared_ptr<ObjectState>>& objects,
                     std::size_t code_count, const Limits* limits);
    // The same, `keep` asking the interpreter to keep the result, or the result made plain
    // (`what` names the operation for the message when it holds objects).
    Carried exchange_kept(std::string_view method, Value params, const CallArguments& arguments,
                          Keep keep, const Limits* limits, const std::string& what);

    // What a reply means: a stop, an error as its exception, or the result with its objects.
    Carried take_reply(Message reply);
    Value code_params(CallArguments& arguments, std::string_view what);
    // One message's line for this interpreter, refusing values that hold tags the host did not
    // place (a map {"$code": ...} in data must never run as code).
    std::string encode_checked(const std::function<std::string(TagCount&)>& encode,
                               std::size_t code_count, std::size_t object_count);
    // invoke, get and set of an object lent to the interpreter; `params` taken from its request.
    void serve_object_request(const Message& request, Carried& params);
    void answer_with(std::int64_t id, const std::string& what, const std::function<Carried()>& run);
    void flush_releases();
    // Runs `operation` (which owns what it uses) through the object runner, if there is one.
    template <class Operation>
    Carried on_own_thread(Operation&& operation);

    // PeerHandler: what the messages that come while a reply is awaited mean.
    void on_request(const Message& request) override;
    void on_notification(const Message& notification) override;
    // The running operation's deadlines (its wall limit, the grace period of a stop) come first.
    Clock::time_point next_deadline(Clock::time_point reply_deadline) override;
    void on_deadline(Clock::time_point reply_deadline) override;
    [[noreturn]] void on_unread(PipeChannel::ReadStatus status) override;
    [[noreturn]] void on_protocol_error(const std::string& problem) override;

    enum class Waiting { ForDriver, ForReply };
    // The next protocol line while the driver starts; end of file, the deadline or an oversized
    // line end the bond.
    std::string next_startup_line(Clock::time_point deadline, const std::string& startup_stdout);
    [[noreturn]] void fail_unread(PipeChannel::ReadStatus status, Waiting waiting,
                                  const std::string& startup_stdout = {});
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
    void reply_error(std::int64_t id, int code, const std::string& message);
    void deliver_output(const Value& params);
    void emit_output(Channel channel, std::string_view text);
    void on_stderr(std::string_view chunk);
    // Every line the host sends: the releases queued since the last one go first.
    void send(std::string line);
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
    // Once the process is gone: what its container tool left on the host.
    void remove_container_leftovers() const;

    Options options_;
    std::string lang_;
    std::string version_;
    std::uint64_t id_;
    std::string container_name_;  // with Options::container: unique to this bond
    // Declared before the process and channel: their handlers live in it.
    boost::asio::io_context io_;
    std::unique_ptr<ChildProcess> child_;
    std::unique_ptr<PipeChannel> channel_;
    std::unique_ptr<Peer> peer_;  // over channel_

    std::unordered_map<std::string, std::shared_ptr<HostFunction>> exports_;
    ObjectRunner object_runner_;
    ObjectTables objects_;
    Operation operation_;                             // the top-level operation running now
    std::atomic<std::int64_t> running_operation_{0};  // its id, for interrupt(); 0 when idle
    std::atomic<bool> alive_ = false;  // read by other bonds' threads that hold its objects
    std::string end_reason_;           // why the bond is no longer alive
    std::exception_ptr fatal_error_;   // the exception that ended it, if one did

    bool in_output_callback_ = false;  // on_output runs: the bond must not be used from it
    bool driver_started_ = false;      // the driver's ready mark was seen on stderr
    std::string startup_stderr_;       // stderr before that mark: start-up diagnostics
    std::string stderr_tail_;          // the last KiBs of stderr, for TerminatedException
};

}  // namespace bond::detail
