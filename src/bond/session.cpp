#include "session.hpp"

#include "../protocol/error_codes.hpp"
#include "../transport/command_line.hpp"
#include "log.hpp"
#include "sandbox.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <iostream>

namespace bond::detail {
namespace {

// Written by a driver on its original stderr once it owns its output: what came before is the
// interpreter's start-up noise (a prompt, a banner), kept only to explain a failed start.
constexpr std::string_view kStderrReadyMark = "\n__bond_driver_ready__\n";
constexpr std::size_t kStderrKept = std::size_t{16} * 1024;
constexpr int kProtocolVersion = 1;

std::atomic<std::uint64_t> next_session_id{1};

void keep_tail(std::string& text, std::size_t limit) {
    if (text.size() > limit) text.erase(0, text.size() - limit);
}

// The start of what a co-process sent, for an error message: control characters are written as
// \xNN, so that a NUL cannot cut the message short nor an escape sequence reach a terminal.
std::string excerpt(std::string_view text, std::size_t limit = 300) {
    std::string shown;
    for (char c : text.substr(0, limit)) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            shown += {'\\', 'x', hex[byte >> 4], hex[byte & 15]};
        } else {
            shown += c;
        }
    }
    if (text.size() > limit) shown += "... (" + std::to_string(text.size()) + " bytes)";
    return shown;
}

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
    return text;
}

std::string describe_current_exception(const std::string& function_name) {
    try {
        throw;
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return function_name + "() threw a non-standard exception";
    }
}

std::string with_stderr(std::string message, const std::string& stderr_text) {
    std::string trimmed = stderr_text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
        trimmed.pop_back();
    if (!trimmed.empty()) message += "; its stderr: " + trimmed;
    return message;
}

struct DepthGuard {
    std::size_t& depth;
    explicit DepthGuard(std::size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
};

// A top-level operation ends however its request ends.
struct OperationScope {
    OperationScope(Operation& o, std::atomic<std::int64_t>& r) : operation(o), running(r) {}
    Operation& operation;
    std::atomic<std::int64_t>& running;
    ~OperationScope() {
        operation.end();
        running = 0;
    }
};

bool runs_code(std::string_view method) {
    return method == "eval" || method == "eval_block" || method == "call";
}

}  // namespace

Session::Session(const DriverSpec& driver, Options options)
    : options_(std::move(options)), lang_(driver.name), id_(next_session_id++) {
    start(driver);
}

Session::~Session() {
    try {
        close();
    } catch (const BondException&) {  // refused only from on_output, which cannot run now
    } catch (...) {                   // a destructor must not throw (bad_alloc)
    }
    channel_.reset();  // release_resources() ran the last handlers that reference it
    child_.reset();
}

void Session::release_resources() {
    // Exported functions may hold this session (a Function of the same bond): break that cycle.
    exports_.clear();
    // The channel's handlers reference it: end its pipe operations and run their handlers while
    // it exists. Nothing runs the io_context after that.
    child_->close_pipes();
    io_.restart();
    io_.poll();
}

Clock::time_point Session::deadline_after(std::chrono::milliseconds timeout) {
    // Saturates: a timeout of milliseconds::max() means "wait as long as it takes", not overflow.
    constexpr std::chrono::milliseconds longest = std::chrono::hours(24 * 365 * 100);
    return Clock::now() + std::clamp(timeout, std::chrono::milliseconds(0), longest);
}

std::vector<std::string> Session::command_line(const DriverSpec& driver) const {
    std::vector<std::string> argv;
    try {
        argv = split_command_line(options_.command.empty() ? driver.command : options_.command);
    } catch (const std::invalid_argument& error) {
        throw BondException(lang_, error.what());
    }
    if (argv.empty()) throw BondException(lang_, "the command is empty");
    if (options_.def_args)
        argv.insert(argv.end(), driver.default_args.begin(), driver.default_args.end());
    argv.insert(argv.end(), options_.args.begin(), options_.args.end());
    if (options_.sandbox) {
        std::vector<std::string> sandboxed = sandbox_command(*options_.sandbox, options_.cwd);
        argv.insert(argv.begin(), sandboxed.begin(), sandboxed.end());
    }
    return argv;
}

void Session::start(const DriverSpec& driver) {
    std::vector<std::string> argv = command_line(driver);
    log().info("starting a {} bond: {}", lang_, join(argv));

    try {
        // In the sandbox, bwrap enters the working directory (inside it), not the host.
        child_ = std::make_unique<ChildProcess>(
            io_, argv, options_.sandbox ? std::nullopt : options_.cwd, options_.env);
    } catch (const std::exception& error) {
        log().error("{} bond: {}", lang_, error.what());
        std::string message = error.what();
        if (options_.sandbox && message.find("'bwrap'") != std::string::npos)
            message = "Options::sandbox needs bubblewrap (Debian: bubblewrap): " + message;
        throw BondException(lang_, message);
    }
    channel_ = std::make_unique<PipeChannel>(io_, *child_, options_.max_message_size,
                                             [this](std::string_view chunk) { on_stderr(chunk); });
    alive_ = true;  // the process runs; the fail_* paths below end it
    send(driver.bootstrap(driver.source));

    std::string noise;  // stdout lines before the ready message
    auto deadline = deadline_after(options_.start_timeout);
    for (;;) {
        std::string line = next_line(deadline, Waiting::ForDriver, noise);
        if (line.starts_with("{")) {
            try {
                Message ready = decode_message(line);
                if (ready.kind == Message::Kind::Notification && ready.method == "ready") {
                    if (ready.params.value("protocol", 0) != kProtocolVersion)
                        fail_protocol("the driver speaks protocol " +
                                      ready.params.value("protocol", Value()).dump() +
                                      ", this host " + std::to_string(kProtocolVersion));
                    log().info("{} bond started: pid {}, {} {}", lang_, child_->pid(), lang_,
                               ready.params.value("version", std::string("?")));
                    break;
                }
            } catch (const ProtocolError&) {
            }
        }
        if (noise.size() < kStderrKept) noise += line.substr(0, kStderrKept) + "\n";
    }
    if (options_.trans_except.value_or(false)) request("configure", {{"trans_except", true}});
}

Value Session::request(std::string_view method, Value params, const Limits* limits) {
    ensure_alive();
    if (in_output_callback_)
        throw BondException(lang_, "a bond cannot be used from its own on_output callback");
    if (depth_ >= options_.max_depth)
        throw BondException(lang_, "calls nested more than " + std::to_string(options_.max_depth) +
                                       " levels deep (Options::max_depth): a runaway recursion?");
    std::int64_t id = ++last_request_id_;
    std::optional<OperationScope> operation;
    if (depth_ == 0 && runs_code(method)) {
        operation.emplace(operation_, running_operation_);
        operation_.begin(id, merge_limits(options_.limits, limits));
        running_operation_ = id;
        if (Value driver_limits = operation_.driver_limits(); !driver_limits.is_null())
            params["limits"] = std::move(driver_limits);
    }
    std::string line;
    try {
        line = encode_request(id, method, params);
    } catch (const EncodingError& error) {
        throw SerializationException(lang_, "local",
                                     std::string("cannot encode the request: ") + error.what());
    }
    params = Value();  // a large argument need not be held twice while the reply is awaited
    DepthGuard guard(depth_);
    send(std::move(line));
    return await_reply(id);
}

Value Session::call(std::string_view name, CallArguments arguments, const Limits* limits) {
    if (arguments.conversion_error)
        throw SerializationException(lang_, "local",
                                     "cannot convert an argument of " + std::string(name) +
                                         "(): " + *arguments.conversion_error);
    for (std::uint64_t owner : arguments.ref_owners) check_ref_owner(owner);
    Value params = Value::object();  // built by moves: the arguments may be megabytes
    params["name"] = name;
    params["args"] = std::move(arguments.values);
    if (!arguments.code_positions.empty()) params["code_args"] = arguments.code_positions;
    return request("call", std::move(params), limits);
}

void Session::interrupt() {
    std::int64_t operation = running_operation_;
    if (operation == 0) return;
    // Runs on the session's thread, in the io_context its waits run.
    boost::asio::post(io_, [this, operation] {
        if (alive_ && operation_.id() == operation) begin_stop("", true);
    });
}

void Session::export_function(std::string_view name, ExportedFunction function) {
    request("export", {{"name", name}});
    exports_[std::string(name)] = std::make_shared<ExportedFunction>(std::move(function));
}

std::vector<std::string> Session::exports() const {
    std::vector<std::string> names;
    for (const auto& entry : exports_) names.push_back(entry.first);
    std::sort(names.begin(), names.end());
    return names;
}

void Session::check_ref_owner(std::uint64_t owner) const {
    if (owner != id_) throw BondException(lang_, "a Ref can only be used on the bond that made it");
}

std::string Session::next_line(Clock::time_point deadline, Waiting waiting,
                               const std::string& startup_stdout) {
    std::string line;
    for (;;) {
        auto status = channel_->read_line(line, deadline);
        if (status == PipeChannel::ReadStatus::Line) {
            log_received(line);
            return line;
        }
        if (status != PipeChannel::ReadStatus::Woken) fail_unread(status, waiting, startup_stdout);
    }
}

void Session::fail_unread(PipeChannel::ReadStatus status, Waiting waiting,
                          const std::string& startup_stdout) {
    bool starting = waiting == Waiting::ForDriver;
    std::string seen = startup_stdout.empty() ? "" : "; its stdout: " + excerpt(startup_stdout);
    switch (status) {
        case PipeChannel::ReadStatus::Closed:
            fail_terminated(starting ? "before its driver started" + seen : "during a call");
        case PipeChannel::ReadStatus::TimedOut:
            fail_timeout(starting ? "while its driver was starting" + seen
                                  : "waiting for a reply (" +
                                        std::to_string(options_.timeout.count()) + " ms)");
        default:
            fail_protocol("a message of more than " + std::to_string(options_.max_message_size) +
                          " bytes" + (starting ? " while its driver was starting" : ""));
    }
}

Value Session::await_reply(std::int64_t id) {
    auto timeout_deadline = deadline_after(options_.timeout);
    for (;;) {
        // Checked before reading too: a flood of output must not keep a deadline from acting.
        auto deadline =
            operation_.running() ? operation_.deadline(timeout_deadline) : timeout_deadline;
        if (operation_.running() && Clock::now() >= deadline) {
            on_deadline(timeout_deadline);
            continue;
        }
        std::string line;
        auto status = channel_->read_line(line, deadline);
        if (status == PipeChannel::ReadStatus::Woken) continue;  // a stop began: new deadlines
        if (status == PipeChannel::ReadStatus::TimedOut) {
            on_deadline(timeout_deadline);
            continue;
        }
        if (status == PipeChannel::ReadStatus::Closed && operation_.stopping()) {
            end_process(std::chrono::milliseconds(1000), "");
            fail_stopped("; the interpreter " + child_->exit_description());
        }
        if (status != PipeChannel::ReadStatus::Line) fail_unread(status, Waiting::ForReply);
        log_received(line);
        Message message;
        try {
            message = decode_message(line);
        } catch (const ProtocolError& error) {
            fail_protocol(std::string(error.what()) + ": " + excerpt(line));
        }
        switch (message.kind) {
            case Message::Kind::Notification:
                handle_notification(message);
                break;
            case Message::Kind::Request:
                serve_remote_request(message);
                timeout_deadline = deadline_after(options_.timeout);
                break;
            case Message::Kind::Result:
            case Message::Kind::Error:
                if (message.id != id)
                    fail_protocol("a reply to request " + std::to_string(message.id) +
                                  " while request " + std::to_string(id) + " was awaited");
                if (message.kind == Message::Kind::Error && message.error_code == kStopped)
                    take_stop_reply(message);
                // Whatever the stopped code answered, its caller learns why it was stopped.
                if (operation_.stopping()) operation_.throw_stop(lang_);
                if (message.kind == Message::Kind::Error) throw_reply_error(message);
                return std::move(message.result);
        }
    }
}

void Session::on_deadline(Clock::time_point timeout_deadline) {
    auto now = Clock::now();
    if (operation_.grace_expired(now)) {
        std::string afterwards = "; it did not stop within " +
                                 describe_duration(operation_.grace()) +
                                 ", so the interpreter was killed";
        log().warn("{} bond: {}{}", lang_, operation_.stop_message(), afterwards);
        end_process(std::chrono::milliseconds(0),
                    "it was killed: " + operation_.stop_message() + afterwards);
        fail_stopped(afterwards);
    }
    if (operation_.take_reminder(now)) {
        log().debug("{} bond: the code has not stopped yet; interrupting it again", lang_);
        return send_interrupt();
    }
    if (operation_.wall_expired(now)) return begin_stop("wall", true);
    if (now >= timeout_deadline)
        fail_timeout("waiting for a reply (" + std::to_string(options_.timeout.count()) + " ms)");
}

void Session::begin_stop(const std::string& limit, bool tell_driver) {
    if (!operation_.running() || !operation_.stop(limit)) return;
    log().info("{} bond: {}", lang_, operation_.stop_message());
    if (tell_driver) send_interrupt();
    channel_->wake();
}

void Session::send_interrupt() {
    send(encode_notification("interrupt",
                             {{"id", operation_.id()}, {"reason", operation_.stop_message()}}));
}

void Session::take_stop_reply(const Message& reply) {
    const Value& data = reply.error_data;
    std::string limit;
    if (data.is_object() && data.contains("limit") && data["limit"].is_string())
        limit = data["limit"].get<std::string>();
    if (limit != "cpu" && limit != "memory") limit.clear();  // the driver enforces only these
    if (!operation_.running()) throw Interrupted(lang_, reply.error_message);
    begin_stop(limit, false);
    if (data.is_object() && data.value("fatal", false)) {
        // The interpreter cannot go on (PHP and Perl out of memory): it is ending by itself.
        end_process(std::chrono::milliseconds(2000), "it ended: " + operation_.stop_message());
        fail_stopped("; the interpreter could not go on and ended");
    }
}

[[noreturn]] void Session::fail_stopped(const std::string& afterwards) {
    if (end_reason_.empty()) end_reason_ = "it ended: " + operation_.stop_message() + afterwards;
    try {
        operation_.throw_stop(lang_, afterwards);
    } catch (...) {
        release_resources();
        fatal_error_ = std::current_exception();
        throw;
    }
}

void Session::serve_remote_request(const Message& request) {
    // Code that is being stopped gets no more help from the host.
    if (operation_.stopping()) return reply_error(request.id, kStopped, operation_.stop_message());
    const Value& params = request.params;
    if (request.method != "call" || !params.is_object() || !params.contains("name") ||
        !params["name"].is_string())
        return reply_error(request.id, kMethodNotFound,
                           "the host serves only \"call\" requests with a \"name\"");
    const std::string& name = params["name"].get_ref<const std::string&>();
    static const Value no_arguments = Value::array();
    auto args = params.find("args");
    if (args != params.end() && !args->is_array())
        return reply_error(request.id, kInvalidParams, "\"args\" must be an array");
    auto found = exports_.find(name);
    if (found == exports_.end())
        return reply_error(request.id, kMethodNotFound,
                           "no exported function named '" + name + "'");
    std::shared_ptr<ExportedFunction> function = found->second;  // survives a re-export inside

    Value result;
    try {
        result = (*function)(args == params.end() ? no_arguments : *args);
    } catch (...) {
        // This bond died underneath (a nested timeout, or the function closed it): unwind to the
        // outermost caller with the original error, whatever the function turned it into.
        if (!alive_) rethrow_fatal_error();
        if (operation_.stopping())
            return reply_error(request.id, kStopped, operation_.stop_message());
        return reply_error(request.id, kRemoteException, describe_current_exception(name));
    }
    if (!alive_) rethrow_fatal_error();
    // Stopped meanwhile (a nested call hit a limit, or interrupt()): the remote code stops too,
    // even if the function caught the exception.
    if (operation_.stopping()) return reply_error(request.id, kStopped, operation_.stop_message());
    try {
        send(encode_result(request.id, result));
    } catch (const EncodingError& error) {
        reply_error(request.id, kSerializationException,
                    "cannot serialize the result of " + name + "(): " + error.what());
    }
}

void Session::reply_error(std::int64_t id, int code, const std::string& message) {
    send(encode_error(id, code, message));
}

[[noreturn]] void Session::throw_reply_error(const Message& reply) {
    // -32000 and -32001 mean what they mean to the daemon's clients, so the one table
    // (error_codes.hpp) throws them; the driver's data is its own (docs/protocol.md, Errors):
    // the serialized exception is data.exception, wanted only with trans_except, and a result
    // the driver could not encode is always the remote side's.
    Value data = {{"lang", lang_}};
    if (reply.error_code == kRemoteException) {
        const Value& sent = reply.error_data;
        bool has_exception = sent.is_object() && sent.contains("exception");
        data["data"] = options_.trans_except.value_or(false) && has_exception
                           ? sent["exception"]
                           : Value(reply.error_message);
    } else if (reply.error_code == kSerializationException) {
        data["side"] = "remote";
    } else {
        throw BondException(lang_, reply.error_message);
    }
    throw_rpc_error({reply.error_code, reply.error_message, std::move(data)});
}

void Session::handle_notification(const Message& notification) {
    if (notification.method == "output") {
        deliver_output(notification.params);
    } else if (notification.method == "limit") {
        // The driver hit a limit it enforces and is stopping the code: the grace period starts.
        const Value& params = notification.params;
        std::string limit = params.is_object() ? params.value("limit", "") : "";
        if ((limit == "cpu" || limit == "memory") && params.value("id", Value()) == operation_.id())
            begin_stop(limit, false);
    } else
        log().debug("{} bond: ignoring notification '{}'", lang_, notification.method);
}

void Session::deliver_output(const Value& params) {
    if (!params.is_object()) return;
    Channel channel =
        params.value("channel", "stdout") == "stderr" ? Channel::Stderr : Channel::Stdout;
    auto data = params.find("data");
    if (data == params.end()) return;
    if (data->is_string()) {
        emit_output(channel, data->get_ref<const std::string&>());
    } else if (data->is_binary()) {
        const auto& bytes = data->get_binary();
        emit_output(channel,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
}

void Session::emit_output(Channel channel, std::string_view text) {
    if (operation_.running()) {
        std::size_t allowed = operation_.output_allowance(text.size());
        if (allowed < text.size()) {
            text = text.substr(0, allowed);  // the rest is dropped: the host's memory stays bounded
            begin_stop("output", true);
        }
        if (text.empty()) return;
    }
    // An exception cannot unwind through here without losing the protocol's place: it is logged.
    in_output_callback_ = true;
    try {
        if (options_.on_output) {
            options_.on_output(channel, text);
        } else {
            std::ostream& stream = channel == Channel::Stderr ? std::cerr : std::cout;
            stream.write(text.data(), static_cast<std::streamsize>(text.size()));
            stream.flush();
        }
    } catch (const std::exception& error) {
        log().warn("{} bond: on_output threw: {}", lang_, error.what());
    } catch (...) {
        log().warn("{} bond: on_output threw a non-standard exception", lang_);
    }
    in_output_callback_ = false;
}

void Session::on_stderr(std::string_view chunk) {
    if (!driver_started_) {
        startup_stderr_.append(chunk);
        auto mark = startup_stderr_.find(kStderrReadyMark);
        if (mark == std::string::npos) return keep_tail(startup_stderr_, kStderrKept);
        driver_started_ = true;
        std::string after = startup_stderr_.substr(mark + kStderrReadyMark.size());
        startup_stderr_.erase(mark);
        if (after.empty()) return;
        return on_stderr(after);
    }
    stderr_tail_.append(chunk);
    keep_tail(stderr_tail_, kStderrKept);
    emit_output(Channel::Stderr, chunk);
}

void Session::send(std::string line) {
    if (options_.logfile) *options_.logfile << "-> " << line << std::flush;
    if (log().should_log(spdlog::level::trace))
        log().trace("{} bond -> {}", lang_, std::string_view(line).substr(0, line.size() - 1));
    channel_->send(std::move(line));
}

void Session::log_received(const std::string& line) {
    if (options_.logfile) *options_.logfile << "<- " << line << '\n' << std::flush;
    if (log().should_log(spdlog::level::trace)) log().trace("{} bond <- {}", lang_, line);
}

void Session::end_process(std::chrono::milliseconds grace, std::string reason) {
    alive_ = false;
    end_reason_ = std::move(reason);
    if (child_) child_->stop(grace, std::chrono::milliseconds(1000));
}

[[noreturn]] void Session::fail_terminated(const std::string& when) {
    end_process(std::chrono::milliseconds(1000), "");  // also ends what could hold stderr open
    channel_->drain_stderr(Clock::now() + std::chrono::seconds(1));
    std::string message = "the interpreter " + child_->exit_description() + " " + when;
    message = with_stderr(message, driver_started_ ? stderr_tail_ : startup_stderr_);
    end_reason_ = message;
    log().error("{} bond: {}", lang_, message);
    fail_with(TerminatedException(lang_, message));
}

[[noreturn]] void Session::fail_timeout(const std::string& when) {
    end_process(std::chrono::milliseconds(0), "closed after a timeout");
    std::string message = with_stderr("timed out " + when + "; the bond is closed",
                                      driver_started_ ? "" : startup_stderr_);
    log().error("{} bond: {}", lang_, message);
    fail_with(TimeoutException(lang_, message));
}

[[noreturn]] void Session::fail_protocol(const std::string& problem) {
    end_process(std::chrono::milliseconds(0), "closed after a protocol error");
    log().error("{} bond: protocol error: {}", lang_, problem);
    fail_with(BondException(lang_, "protocol error: " + problem + "; the bond is closed"));
}

template <class Exception>
[[noreturn]] void Session::fail_with(Exception error) {
    release_resources();
    fatal_error_ = std::make_exception_ptr(error);
    throw error;
}

[[noreturn]] void Session::rethrow_fatal_error() {
    if (fatal_error_) std::rethrow_exception(fatal_error_);
    ensure_alive();
    throw TerminatedException(lang_, "the bond is not alive");
}

void Session::ensure_alive() const {
    if (!alive_) throw TerminatedException(lang_, "the bond is not alive: " + end_reason_);
}

void Session::close() {
    if (!alive_) return;
    if (in_output_callback_)
        throw BondException(lang_, "a bond cannot be closed from its own on_output callback");
    log().info("closing a {} bond (pid {})", lang_, child_->pid());
    alive_ = false;
    end_reason_ = "it was closed";
    child_->close_stdin();
    // Read on until the driver has exited: a driver blocked writing to a full stdout can then
    // finish, and output it wrote after the last call is delivered rather than lost.
    auto deadline = Clock::now() + std::chrono::seconds(2);
    std::string line;
    while (channel_->read_line(line, deadline) == PipeChannel::ReadStatus::Line) {
        log_received(line);
        try {
            Message message = decode_message(line);
            if (message.kind == Message::Kind::Notification) handle_notification(message);
        } catch (const ProtocolError&) {  // the bond is ending: its last words are output only
        }
    }
    child_->stop(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
    log().info("{} bond closed: {}", lang_, child_->exit_description());
    release_resources();
}

}  // namespace bond::detail
