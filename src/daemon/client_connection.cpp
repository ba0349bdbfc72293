#include "client_connection.hpp"

#include "daemon_log.hpp"
#include "held_bond.hpp"
#include "method_dispatcher.hpp"
#include "reply.hpp"
#include "rpc_error.hpp"

#include "../protocol/json_parser.hpp"
#include "../protocol/jsonrpc.hpp"

#include <boost/asio/post.hpp>

#include <charconv>
#include <stdexcept>

namespace bond::daemon {
namespace {

// The error for a line over --max-message-size: how long a line may be, and what sets it.
std::string message_too_long(std::size_t max_line) {
    return "the message is longer than " + std::to_string(max_line) +
           " bytes, the most the daemon accepts (set by --max-message-size); it was dropped";
}

// The ids of the daemon's own requests (`invoke`) are strings "bondd:N", which no request of a
// client may have: an answer with such an id is to the daemon, and an error answer to a malformed
// one, which carries its id, cannot be taken for the answer to a request of the client's.
constexpr std::string_view kDaemonIdPrefix = "bondd:";

std::string daemon_id(std::int64_t number) {
    return std::string(kDaemonIdPrefix) + std::to_string(number);
}

bool is_daemon_id(const Value& id) {
    return id.is_string() && id.get_ref<const std::string&>().starts_with(kDaemonIdPrefix);
}

// N of "bondd:N"; none for any other id.
std::optional<std::int64_t> daemon_id_number(const Value& id) {
    if (!is_daemon_id(id)) return std::nullopt;
    const std::string& text = id.get_ref<const std::string&>();
    std::int64_t number = 0;
    const char* first = text.data() + kDaemonIdPrefix.size();
    const char* last = text.data() + text.size();
    auto [end, error] = std::from_chars(first, last, number);
    if (error != std::errc() || end != last || first == last) return std::nullopt;
    return number;
}

// The id of a message that failed validation, if it has a usable one; else null. A request's id
// that is the daemon's is not usable: an error with it would read as one about an answer.
Value usable_id(const Value& json) {
    if (!json.is_object()) return nullptr;
    auto id = json.find("id");
    if (id == json.end() || !(id->is_string() || id->is_number_integer())) return nullptr;
    if (json.contains("method") && is_daemon_id(*id)) return nullptr;
    return *id;
}

}  // namespace

ClientConnection::ClientConnection(boost::asio::io_context& network, std::uint64_t id,
                                   std::string peer, std::shared_ptr<LineStream> stream,
                                   MethodDispatcher& dispatcher, bool needs_auth,
                                   ClientLimits limits)
    : network_(network),
      id_(id),
      peer_(std::move(peer)),
      stream_(std::move(stream)),
      dispatcher_(dispatcher),
      needs_auth_(needs_auth),
      limits_(limits) {}

void ClientConnection::start(std::function<void()> on_gone) {
    on_gone_ = std::move(on_gone);
    log().info("client {} connected ({})", id_, peer_);
    std::weak_ptr<ClientConnection> weak = weak_from_this();
    stream_->start({
        .on_line =
            [weak](std::string& line) {
                if (auto self = weak.lock()) self->on_line(line);
            },
        .on_too_long =
            [weak](std::size_t max_line) {
                if (auto self = weak.lock())
                    self->send_error(nullptr, jsonrpc_error(detail::kInvalidRequest,
                                                            message_too_long(max_line)));
            },
        .on_input_end =
            [weak](bool peer_gone) {
                if (auto self = weak.lock()) self->input_ended(peer_gone);
            },
        .on_broken =
            [weak] {
                if (auto self = weak.lock()) self->gone("disconnected (writing to it failed)");
            },
    });
}

void ClientConnection::on_line(std::string& line) {
    if (closed_) return;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a client that sends CRLF
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    if (log_traffic()) log().info("client {} -> {}", id_, line);

    Value json;
    try {
        json = detail::parse_json_in_place(line);  // the line is not needed again
    } catch (const detail::ProtocolError& error) {
        return send_error(
            nullptr, jsonrpc_error(detail::kParseError,
                                   std::string("the message cannot be parsed: ") + error.what()));
    }
    if (json.is_array())
        return send_error(
            nullptr,
            jsonrpc_error(detail::kInvalidRequest,
                          "batches are not supported: send each request on a line of its own"));
    Value id = usable_id(json);
    if (json.is_object() && json.contains("method") && json.contains("params") &&
        json["params"].is_array())
        return send_error(id, invalid_params("the parameters must be named: send an object, "
                                             "not an array")
                                  .error());
    detail::Message message;
    try {
        message = detail::decode_message(std::move(json), detail::IdRule::Any);
    } catch (const detail::ProtocolError& error) {
        std::string what =
            is_daemon_id(id) ? "the answer to the daemon's request " + id.dump() + " is not valid: "
                             : std::string("the message is not valid: ");
        return send_error(id, jsonrpc_error(detail::kInvalidRequest, what + error.what()));
    }

    switch (message.kind) {
        case detail::Message::Kind::Result:
            return take_answer(false, message.raw_id, std::move(message.result), "");
        case detail::Message::Kind::Error:
            return take_answer(true, message.raw_id, nullptr, message.error_message);
        case detail::Message::Kind::Request:
        case detail::Message::Kind::Notification:
            break;
    }
    bool wanted = message.kind == detail::Message::Kind::Request;
    if (wanted && is_daemon_id(message.raw_id))
        return send_error(nullptr, jsonrpc_error(detail::kInvalidRequest,
                                                 "the request's id " + message.raw_id.dump() +
                                                     " begins with \"bondd:\", which marks the "
                                                     "daemon's own requests; it was not run"));
    if (unanswered_ >= limits_.max_requests) {
        if (wanted)
            send_error(message.raw_id,
                       bond_error("this client has " + std::to_string(limits_.max_requests) +
                                  " requests waiting for their answer already, as many as the "
                                  "daemon allows (bondd --max-client-requests); this one is "
                                  "refused")
                           .error());
        else
            log().warn("client {}: a notification beyond --max-client-requests was dropped", id_);
        return;
    }
    ++in_flight_;
    ++unanswered_;
    Reply reply(shared_from_this(), message.raw_id, wanted);
    dispatcher_.dispatch(shared_from_this(), message, reply);
}

std::unique_ptr<InputLease> ClientConnection::lend_input(std::function<void()> wake) {
    if (closed_ || input_ended_) return nullptr;
    return stream_->lend_input(std::move(wake));
}

void ClientConnection::note_request_for(const HeldBond* bond) {
    if (last_bond_.exchange(bond) == bond)
        ++same_bond_runs_;
    else
        same_bond_runs_ = 1;
}

bool ClientConnection::keeps_calling(const HeldBond* bond) const {
    return last_bond_ == bond && same_bond_runs_ >= 2;
}

std::optional<detail::Message> ClientConnection::request_for(std::string_view line,
                                                             const HeldBond& bond) {
    if (closed_ || (needs_auth_ && !authenticated_) || unanswered_ >= limits_.max_requests)
        return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    try {
        Value json = detail::parse_json(line);
        auto method = json.find("method");
        auto params = json.find("params");
        if (method == json.end() || !method->is_string() || params == json.end() ||
            !params->is_object())
            return std::nullopt;
        const auto& name = method->get_ref<const std::string&>();
        if (name != "call" && name != "eval" && name != "eval_block") return std::nullopt;
        auto id = params->find("bond");
        if (id == params->end() || !id->is_string() || *id != bond.id()) return std::nullopt;
        detail::Message message = detail::decode_message(std::move(json), detail::IdRule::Any);
        if (message.kind != detail::Message::Kind::Request &&
            message.kind != detail::Message::Kind::Notification)
            return std::nullopt;
        if (is_daemon_id(message.raw_id)) return std::nullopt;  // the network thread refuses it
        // What held_by checks on the network thread: a bond of the caller's, not closed.
        if (!bond.held_by(id_) || bond.closing()) return std::nullopt;
        return message;
    } catch (const detail::ProtocolError&) {
        return std::nullopt;  // the network thread answers it
    }
}

void ClientConnection::take_lent_line(std::string& line, std::unique_ptr<InputLease> lease,
                                      const std::shared_ptr<HeldBond>& bond) {
    std::optional<detail::Message> message = request_for(line, *bond);
    if (!message) return lease->end(&line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (log_traffic()) log().info("client {} -> {}", id_, line);
    // Counted before the input goes back: a client that ends its input now still gets this
    // answer (input_ended).
    ++in_flight_;
    ++unanswered_;
    Reply reply(shared_from_this(), message->raw_id,
                message->kind == detail::Message::Kind::Request);
    ChainId chain = chain_for(bond->id());
    lease->end();  // the network thread hears the client while the operation runs
    dispatcher_.run_here(shared_from_this(), *message, reply, bond, chain);
}

void ClientConnection::take_answer(bool is_error, const Value& id, Value result,
                                   const std::string& error) {
    std::shared_ptr<Awaited> awaited;
    if (auto number = daemon_id_number(id)) {
        std::lock_guard lock(invokes_mutex_);
        auto pending = invokes_.find(*number);
        if (pending != invokes_.end()) {
            awaited = std::move(pending->second.awaited);
            invokes_.erase(pending);
        }
    }
    if (!awaited) {
        log().warn("client {}: an answer to no invoke of the daemon (id {}): ignored", id_,
                   id.dump());
        return;
    }
    if (is_error)
        awaited->set_error(std::make_exception_ptr(std::runtime_error(error)));
    else
        awaited->set_value(std::move(result));
}

void ClientConnection::send(std::string line) {
    if (closed_) return;
    if (log_traffic())
        log().info("client {} <- {}", id_, std::string_view(line).substr(0, line.size() - 1));
    stream_->write(std::move(line));
}

void ClientConnection::send_error(const Value& id, const RpcError& error) {
    send(error_line(id, error));
}

void ClientConnection::send_output(const std::string& bond, bond::Channel channel,
                                   std::string_view data) {
    Value params = {{"bond", bond},
                    {"channel", channel == bond::Channel::Stderr ? "stderr" : "stdout"},
                    {"data", std::string(data)}};
    std::string line;
    try {
        line = detail::encode_notification("output", params);
    } catch (const detail::EncodingError&) {  // not UTF-8: sent as bytes
        params["data"] = Value::binary(std::vector<std::uint8_t>(data.begin(), data.end()));
        line = detail::encode_notification("output", params);
    }
    send(std::move(line));
}

std::int64_t ClientConnection::invoke(const std::string& bond, const std::string& name,
                                      const Value& args, ChainId chain,
                                      const std::shared_ptr<Awaited>& awaited) {
    std::int64_t id;
    {
        std::lock_guard lock(invokes_mutex_);
        if (closed_ || input_ended_) {
            awaited->set_error(std::make_exception_ptr(std::runtime_error(
                "the client that exported " + name + "() can no longer answer: it has gone")));
            return 0;
        }
        id = ++last_invoke_id_;
        invokes_[id] = {bond, chain, awaited};
    }
    try {
        send(detail::encode_request(daemon_id(id), "invoke",
                                    {{"bond", bond}, {"name", name}, {"args", args}}));
    } catch (const detail::EncodingError& error) {
        forget_invoke(id);
        awaited->set_error(std::make_exception_ptr(std::runtime_error(
            std::string("the arguments cannot be sent to the client: ") + error.what())));
    }
    return id;
}

void ClientConnection::forget_invoke(std::int64_t id) {
    std::lock_guard lock(invokes_mutex_);
    invokes_.erase(id);
}

ChainId ClientConnection::chain_for(const std::string& bond) {
    std::lock_guard lock(invokes_mutex_);
    for (auto pending = invokes_.rbegin(); pending != invokes_.rend(); ++pending)
        if (pending->second.bond == bond) return pending->second.chain;
    if (!invokes_.empty()) return invokes_.rbegin()->second.chain;
    return new_chain();
}

void ClientConnection::disconnect(const std::string& why) {
    stream_->close();
    gone(why);
}

void ClientConnection::request_done() {
    if (--in_flight_ == 0 && input_ended_)
        boost::asio::post(network_, [self = shared_from_this()] { self->gone("has gone"); });
}

void ClientConnection::fail_invokes(const std::string& why) {
    std::map<std::int64_t, PendingInvoke> unanswered;
    {
        std::lock_guard lock(invokes_mutex_);
        unanswered.swap(invokes_);
    }
    for (auto& [id, pending] : unanswered)
        pending.awaited->set_error(std::make_exception_ptr(std::runtime_error(why)));
}

void ClientConnection::input_ended(bool peer_gone) {
    if (peer_gone) return gone("disconnected");
    {
        std::lock_guard lock(invokes_mutex_);  // invoke() checks input_ended_ under it
        input_ended_ = true;
    }
    fail_invokes("the client that was asked to run it has closed its input");
    if (in_flight_ == 0) return gone("closed its input");
    log().info("client {} closed its input; {} request(s) still to answer", id_, in_flight_.load());
}

void ClientConnection::gone(const std::string& why) {
    {
        std::lock_guard lock(invokes_mutex_);  // invoke() checks closed_ under it
        if (closed_.exchange(true)) return;
    }
    log().info("client {} {}", id_, why);
    fail_invokes("the client that was asked to run it has disconnected");
    objects_->release_all();
    dispatcher_.client_left(shared_from_this(), [self = shared_from_this()] {
        self->stream_->close();
        if (self->on_gone_) self->on_gone_();
    });
}

}  // namespace bond::daemon
