#include "session.hpp"

#include "../protocol/error_codes.hpp"
#include "../transport/command_line.hpp"
#include "container.hpp"
#include "log.hpp"
#include "sandbox.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <limits>

#include <signal.h>

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

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
    return text;
}

std::string describe_current_exception(const std::string& what) {
    try {
        throw;
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return what + " threw a non-standard exception";
    }
}

std::string with_stderr(std::string message, const std::string& stderr_text) {
    std::string trimmed = stderr_text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
        trimmed.pop_back();
    if (!trimmed.empty()) message += "; its stderr: " + trimmed;
    return message;
}

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

// A field of the interpreter's request that is missing or of the wrong type (-32602).
struct InvalidField : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The requests that run the user's code: at the top level, each is an operation under limits.
bool runs_code(std::string_view method) {
    return method == "eval" || method == "eval_block" || method == "call" || method == "invoke" ||
           method == "get" || method == "set";
}

}  // namespace

Session::Session(const DriverSpec& driver, Options options)
    : options_(std::move(options)),
      lang_(driver.name),
      id_(next_session_id++),
      objects_(*this, driver.name) {
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
    remove_container_leftovers();  // the process may have ended only now
}

void Session::remove_container_leftovers() const {
    if (options_.container)
        detail::remove_container_leftovers(*options_.container, container_name_);
}

void Session::release_resources() {
    // Exported functions may hold this session (a Function of the same bond): break that cycle.
    exports_.clear();
    // The interpreter's proxies are gone with it: the owners may let their objects go.
    objects_.clear_lent();
    // The channel's handlers reference it: end its pipe operations and run their handlers while
    // it exists. Nothing runs the io_context after that.
    child_->close_pipes();
    io_.restart();
    io_.poll();
    remove_container_leftovers();
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
    if (options_.sandbox && options_.container)
        throw BondException(lang_,
                            "Options::sandbox and Options::container exclude each other: "
                            "the container is the sandbox");
    if (options_.sandbox) {
        std::vector<std::string> sandboxed = sandbox_command(*options_.sandbox, options_.cwd);
        argv.insert(argv.begin(), sandboxed.begin(), sandboxed.end());
    }
    if (options_.container) {
        std::vector<std::string> contained =
            container_command(*options_.container, container_name_, options_.cwd, options_.env);
        argv.insert(argv.begin(), contained.begin(), contained.end());
    }
    return argv;
}

void Session::start(const DriverSpec& driver) {
    if (options_.container) container_name_ = unique_container_name();
    std::vector<std::string> argv = command_line(driver);
    log().info("starting a {} bond: {}", lang_, join(argv));

    try {
        // In the sandbox, bwrap enters the working directory (inside it), not the host. A
        // container tool gets the host's environment and passes `env` in; SIGTERM when the host
        // dies makes it stop its container (SIGKILL would leave the container running).
        bool wrapped = options_.sandbox || options_.container;
        child_ = std::make_unique<ChildProcess>(io_, argv, wrapped ? std::nullopt : options_.cwd,
                                                options_.container ? std::nullopt : options_.env,
                                                options_.container ? SIGTERM : 0);
    } catch (const std::exception& error) {
        log().error("{} bond: {}", lang_, error.what());
        std::string message = error.what();
        if (options_.sandbox && message.find("'bwrap'") != std::string::npos)
            message = "Options::sandbox needs bubblewrap (Debian: bubblewrap): " + message;
        if (options_.container && message.find("'" + argv.front() + "'") != std::string::npos)
            message = container_tool(*options_.container) + ": " + message;
        throw BondException(lang_, message);
    }
    channel_ = std::make_unique<PipeChannel>(io_, *child_, options_.max_message_size,
                                             [this](std::string_view chunk) { on_stderr(chunk); });
    PeerHandler& handler = *this;  // a private base: make_unique cannot see it
    peer_ = std::make_unique<Peer>(*channel_, handler, options_.timeout, options_.logfile,
                                   lang_ + " bond");
    alive_ = true;  // the process runs; the fail_* paths below end it
    send(driver.bootstrap(driver.source));

    std::string noise;  // stdout lines before the ready message
    auto deadline = deadline_after(options_.start_timeout);
    for (;;) {
        std::string line = next_startup_line(deadline, noise);
        if (line.starts_with("{")) {
            try {
                Message ready = decode_message(line);
                if (ready.kind == Message::Kind::Notification && ready.method == "ready") {
                    if (ready.params.value("protocol", 0) != kProtocolVersion)
                        fail_protocol("the driver speaks protocol " +
                                      ready.params.value("protocol", Value()).dump() +
                                      ", this host " + std::to_string(kProtocolVersion));
                    Value version = ready.params.value("version", Value());
                    version_ = version.is_string() ? version.get<std::string>() : "";
                    log().info("{} bond started: pid {}, {} {}", lang_, child_->pid(), lang_,
                               version_.empty() ? "?" : version_);
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
    return plain_result(exchange(method, std::move(params), {}, 0, limits), method);
}

Carried Session::exchange_kept(std::string_view method, Value params,
                               const CallArguments& arguments, Keep keep, const Limits* limits,
                               const std::string& what) {
    if (keep == Keep::Object) params["keep"] = true;
    Carried result =
        exchange(method, std::move(params), arguments.objects, arguments.ref_owners.size(), limits);
    if (keep == Keep::Value) return {plain_result(std::move(result), what), {}};
    return result;
}

Carried Session::exchange(std::string_view method, Value params,
                          const std::vector<std::shared_ptr<ObjectState>>& objects,
                          std::size_t code_count, const Limits* limits) {
    ensure_alive();
    if (in_output_callback_)
        throw BondException(lang_, "a bond cannot be used from its own on_output callback");
    if (peer_->depth() >= options_.max_depth)
        throw BondException(lang_, "calls nested more than " + std::to_string(options_.max_depth) +
                                       " levels deep (Options::max_depth): a runaway recursion?");
    std::int64_t id = 0;
    std::optional<OperationScope> operation;
    std::vector<std::uint64_t> lent;  // objects lent by this request, taken back if it is not sent
    std::string line;
    try {
        std::size_t placed = objects.empty() ? 0 : objects_.place(params, objects, lent);
        // Each object stands once in its arguments: another placeholder came with the data.
        if (placed != objects.size())
            throw SerializationException(
                lang_, "local",
                "a value holds a map {\"$handle\": n}, the shape that stands for an object "
                "argument inside the host; such a map cannot be sent as a value");
        id = peer_->next_id();
        if (peer_->depth() == 0 && runs_code(method)) {
            operation.emplace(operation_, running_operation_);
            operation_.begin(id, merge_limits(options_.limits, limits));
            running_operation_ = id;
            if (Value driver_limits = operation_.driver_limits(); !driver_limits.is_null())
                params["limits"] = std::move(driver_limits);
        }
        line = encode_checked(
            [&](TagCount& tags) { return encode_request(id, method, params, &tags); }, code_count,
            placed);
    } catch (...) {
        objects_.undo_lending(lent);
        throw;
    }
    params = Value();  // a large argument need not be held twice while the reply is awaited
    send(std::move(line));
    return take_reply(peer_->await_reply(id));
}

Carried Session::take_reply(Message reply) {
    if (reply.kind == Message::Kind::Error && reply.error_code == kStopped) take_stop_reply(reply);
    // Whatever the stopped code answered, its caller learns why it was stopped.
    if (operation_.stopping()) operation_.throw_stop(lang_);
    if (reply.kind == Message::Kind::Error) throw_reply_error(reply);
    try {
        return objects_.take(std::move(reply.result), reply.holds_tags, weak_from_this());
    } catch (const ForgedTag& error) {
        throw BondException(lang_,
                            std::string("the interpreter's answer is wrong: ") + error.what());
    }
}

std::string Session::encode_checked(const std::function<std::string(TagCount&)>& encode,
                                    std::size_t code_count, std::size_t object_count) {
    TagCount tags;
    std::string line;
    try {
        line = encode(tags);
    } catch (const EncodingError& error) {
        throw SerializationException(lang_, "local",
                                     std::string("cannot encode the request: ") + error.what());
    }
    if (tags.code != code_count || tags.objects != object_count)
        throw SerializationException(
            lang_, "local",
            "a value holds a map of the shape the protocol reserves for code or objects "
            "({\"$code\": ...}, {\"$obj\": ...}, {\"$yours\": ...}); such a map cannot be sent "
            "as a value (docs/protocol.md, Values)");
    return line;
}

Value Session::plain_result(Carried result, std::string_view what) const {
    if (result.objects.empty()) return std::move(result.value);
    const ObjectState& first = *result.objects.front();
    throw SerializationException(
        lang_, "remote",
        "the result of " + std::string(what) + " holds a " + first.lang + " object (" + first.type +
            "), which JSON cannot carry: Bond::object() and call_object() keep such a value in "
            "its interpreter and give a bond::Object");
}

Value Session::code_params(CallArguments& arguments, std::string_view what) {
    if (arguments.conversion_error)
        throw SerializationException(lang_, "local",
                                     "cannot convert an argument of " + std::string(what) + ": " +
                                         *arguments.conversion_error);
    for (std::uint64_t owner : arguments.ref_owners) check_ref_owner(owner);
    return std::move(arguments.values);
}

Carried Session::call(std::string_view name, CallArguments arguments, Keep keep,
                      const Limits* limits) {
    std::string what = std::string(name) + "()";
    Value params = Value::object();  // built by moves: the arguments may be megabytes
    params["name"] = name;
    params["args"] = code_params(arguments, what);
    return exchange_kept("call", std::move(params), arguments, keep, limits, what);
}

Carried Session::eval(std::string_view code, Keep keep, const Limits* limits) {
    return exchange_kept("eval", {{"code", code}}, {}, keep, limits, "eval");
}

template <class Operation>
Carried Session::on_own_thread(Operation&& operation) {
    // Made a std::function (a copy on the heap) only for a runner: a library call pays nothing.
    if (!object_runner_) return operation();
    return object_runner_(std::function<Carried()>(std::forward<Operation>(operation)));
}

Carried Session::invoke(std::uint64_t number, const std::string* method, CallArguments arguments,
                        Keep keep) {
    std::string what = method ? *method + "()" : "the object's call";
    Value params = Value::object();
    params["object"] = number;
    params["method"] = method ? Value(*method) : Value();
    params["args"] = code_params(arguments, what);
    return on_own_thread([self = shared_from_this(), params = std::move(params),
                          arguments = std::move(arguments), keep, what]() mutable {
        return self->exchange_kept("invoke", std::move(params), arguments, keep, nullptr, what);
    });
}

Carried Session::get(std::uint64_t number, const std::string* name, Keep keep) {
    Value params = {{"object", number}, {"name", name ? Value(*name) : Value()}};
    return on_own_thread([self = shared_from_this(), params = std::move(params), keep,
                          what = name ? *name : "the object's value"]() mutable {
        return self->exchange_kept("get", std::move(params), {}, keep, nullptr, what);
    });
}

void Session::set(std::uint64_t number, const std::string& name, CallArguments value) {
    Value values = code_params(value, "the value of " + name);
    Value params = {{"object", number}, {"name", name}, {"value", std::move(values.at(0))}};
    on_own_thread([self = shared_from_this(), params = std::move(params),
                   value = std::move(value)]() mutable {
        return self->exchange("set", std::move(params), value.objects, value.ref_owners.size(),
                              nullptr);
    });
}

void Session::flush_releases() {
    std::vector<std::uint64_t> numbers = objects_.take_releases();
    if (numbers.empty() || !alive_) return;
    peer_->send(encode_notification("release", {{"objects", numbers}}));
}

void Session::interrupt() {
    std::int64_t operation = running_operation_;
    if (operation == 0) return;
    // Runs on the session's thread, in the io_context its waits run.
    boost::asio::post(io_, [this, operation] {
        if (alive_ && operation_.id() == operation) begin_stop("", true);
    });
}

void Session::export_function(std::string_view name, HostFunction function) {
    request("export", {{"name", name}});
    exports_[std::string(name)] = std::make_shared<HostFunction>(std::move(function));
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

std::string Session::next_startup_line(Clock::time_point deadline,
                                       const std::string& startup_stdout) {
    std::string line;
    for (;;) {
        auto status = peer_->read_line(line, deadline);
        if (status == PipeChannel::ReadStatus::Line) return line;
        if (status != PipeChannel::ReadStatus::Woken)
            fail_unread(status, Waiting::ForDriver, startup_stdout);
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

Clock::time_point Session::next_deadline(Clock::time_point reply_deadline) {
    return operation_.running() ? operation_.deadline(reply_deadline) : reply_deadline;
}

void Session::on_unread(PipeChannel::ReadStatus status) {
    if (status == PipeChannel::ReadStatus::Closed && operation_.stopping()) {
        end_process(std::chrono::milliseconds(1000), "");
        fail_stopped("; the interpreter " + child_->exit_description());
    }
    fail_unread(status, Waiting::ForReply);
}

void Session::on_protocol_error(const std::string& problem) {
    fail_protocol(problem);
}

void Session::on_deadline(Clock::time_point reply_deadline) {
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
    if (now >= reply_deadline)
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

void Session::on_request(const Message& request) {
    // The interpreter's objects in the request are taken first, whatever the answer: they are
    // let go once it is sent, where a number the host never took would stay in its table.
    Carried params;
    std::optional<std::string> forged;
    try {
        params = objects_.take(request.params, request.holds_tags, weak_from_this());
    } catch (const ForgedTag& error) {
        forged = error.what();
    }
    // Code that is being stopped gets no more help from the host.
    if (operation_.stopping()) return reply_error(request.id, kStopped, operation_.stop_message());
    if (forged) return reply_error(request.id, kInvalidParams, *forged);
    if (request.method == "invoke" || request.method == "get" || request.method == "set")
        return serve_object_request(request, params);
    const Value& named = params.value;
    if (request.method != "call" || !named.is_object() || !named.contains("name") ||
        !named["name"].is_string())
        return reply_error(request.id, kMethodNotFound,
                           "the host serves only \"call\" requests with a \"name\", and "
                           "\"invoke\", \"get\" and \"set\"");
    std::string name = named["name"].get<std::string>();
    auto args = named.find("args");
    if (args != named.end() && !args->is_array())
        return reply_error(request.id, kInvalidParams, "\"args\" must be an array");
    auto found = exports_.find(name);
    if (found == exports_.end())
        return reply_error(request.id, kMethodNotFound,
                           "no exported function named '" + name + "'");
    std::shared_ptr<HostFunction> function = found->second;  // survives a re-export inside
    Carried arguments{args == named.end() ? Value::array() : std::move(*args),
                      std::move(params.objects)};
    answer_with(request.id, name + "()", [&] { return (*function)(arguments); });
}

void Session::serve_object_request(const Message& request, Carried& params) {
    Value& named = params.value;
    auto number = named.is_object() ? named.find("object") : named.end();
    if (number == named.end() || !number->is_number_unsigned())
        return reply_error(request.id, kInvalidParams, "\"object\" must be an object's number");
    std::shared_ptr<ObjectState> state = objects_.lent(number->get<std::uint64_t>());
    if (!state)  // held here: survives a release inside
        return reply_error(request.id, kInvalidParams,
                           "no object " + number->dump() +
                               " in the host's table for this interpreter: it was released or "
                               "never lent");
    auto text = [&](const char* key) -> std::optional<std::string> {
        auto field = named.find(key);
        if (field == named.end() || field->is_null()) return std::nullopt;
        if (!field->is_string())
            throw InvalidField(std::string("\"") + key + "\" must be a string");
        return field->get<std::string>();
    };
    std::optional<std::string> method;
    std::optional<std::string> name;
    CallArguments arguments;
    try {
        method = text("method");
        name = text("name");
        if (request.method == "invoke") {
            auto args = named.find("args");
            if (args != named.end() && !args->is_array())
                throw InvalidField("\"args\" must be an array");
            if (args != named.end()) arguments.values = std::move(*args);
        } else if (request.method == "set") {
            if (!name) throw InvalidField("\"set\" needs a \"name\"");
            arguments.values = Value::array({named.value("value", Value())});
        }
    } catch (const InvalidField& error) {
        return reply_error(request.id, kInvalidParams, error.what());
    }
    arguments.objects = std::move(params.objects);
    std::string what = describe_object(*state);
    answer_with(request.id, what, [&]() -> Carried {
        auto owner = state->owner.lock();
        if (!owner || !owner->alive())
            throw BondException(lang_, what + " cannot be used: the bond that holds it is closed");
        if (request.method == "invoke")
            return owner->invoke(state->number, method ? &*method : nullptr, std::move(arguments),
                                 Keep::Objects);
        // A get of no name is the object's value (a proxy's iteration, say).
        if (request.method == "get")
            return owner->get(state->number, name ? &*name : nullptr, Keep::Objects);
        owner->set(state->number, *name, std::move(arguments));
        return {};
    });
}

void Session::answer_with(std::int64_t id, const std::string& what,
                          const std::function<Carried()>& run) {
    Carried result;
    try {
        result = run();
    } catch (...) {
        // This bond died underneath (a nested timeout, or the function closed it): unwind to the
        // outermost caller with the original error, whatever the function turned it into.
        if (!alive_) rethrow_fatal_error();
        if (operation_.stopping()) return reply_error(id, kStopped, operation_.stop_message());
        return reply_error(id, kRemoteException, describe_current_exception(what));
    }
    if (!alive_) rethrow_fatal_error();
    // Stopped meanwhile (a nested call hit a limit, or interrupt()): the remote code stops too,
    // even if the function caught the exception.
    if (operation_.stopping()) return reply_error(id, kStopped, operation_.stop_message());
    std::vector<std::uint64_t> lent;
    try {
        std::size_t placed =
            result.objects.empty() ? 0 : objects_.place(result.value, result.objects, lent);
        send(encode_checked([&](TagCount& tags) { return encode_result(id, result.value, &tags); },
                            0, placed));
    } catch (const BondException& error) {
        objects_.undo_lending(lent);
        reply_error(id, kSerializationException,
                    "cannot serialize the result of " + what + ": " + error.message());
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
        if (sent.is_object() && sent.contains("stack")) data["stack"] = sent["stack"];
    } else if (reply.error_code == kSerializationException) {
        data["side"] = "remote";
    } else {
        throw BondException(lang_, reply.error_message);
    }
    throw_rpc_error({reply.error_code, reply.error_message, std::move(data)});
}

void Session::on_notification(const Message& notification) {
    if (notification.method == "output") {
        deliver_output(notification.params);
    } else if (notification.method == "release") {
        // The interpreter's proxies were collected: the owners' objects may go.
        const Value& params = notification.params;
        if (params.is_object() && params.contains("objects"))
            objects_.release_lent(params["objects"]);
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
    flush_releases();
    peer_->send(std::move(line));
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
    fail_with(TerminatedException(lang_, message, child_->exit_code()));
}

[[noreturn]] void Session::fail_timeout(const std::string& when) {
    end_process(std::chrono::milliseconds(0), "it was closed after a timeout");
    std::string message = with_stderr("the bond timed out " + when + "; it is closed",
                                      driver_started_ ? "" : startup_stderr_);
    log().error("{} bond: {}", lang_, message);
    fail_with(TimeoutException(lang_, message));
}

[[noreturn]] void Session::fail_protocol(const std::string& problem) {
    end_process(std::chrono::milliseconds(0), "it was closed after a protocol error");
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
    while (peer_->read_line(line, deadline) == PipeChannel::ReadStatus::Line) {
        try {
            Message message = decode_message_in_place(line);
            if (message.kind == Message::Kind::Notification) on_notification(message);
        } catch (const ProtocolError&) {  // the bond is ending: its last words are output only
        }
    }
    child_->stop(std::chrono::milliseconds(0), std::chrono::milliseconds(1000));
    log().info("{} bond closed: the interpreter {}", lang_, child_->exit_description());
    release_resources();
}

}  // namespace bond::detail
