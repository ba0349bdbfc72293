// The library's exceptions as error objects and back: to_rpc_error and throw_rpc_error are each
// other's inverse (tests/unit/error_codes_test.cpp), so each exception class is written the same
// way in both, in the order of the codes.
#include "error_codes.hpp"

#include <optional>

namespace bond::detail {
namespace {

// A string field of `data`, "" when it is missing or not a string (whatever the peer sent).
std::string text_field(const Value& data, const char* key) {
    if (!data.is_object()) return {};
    auto found = data.find(key);
    return found != data.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// SerializationException's constructor puts "(side) " before its message(), which is the message
// on the wire; it must not be put there twice on the way back.
std::string without_side(const std::string& message, const std::string& side) {
    std::string prefix = "(" + side + ") ";
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

// RemoteException::stack() as JSON: [{file, line, function}, ...], innermost first.
Value stack_as_json(const std::vector<StackFrame>& stack) {
    Value frames = Value::array();
    for (const auto& frame : stack)
        frames.push_back(
            {{"file", frame.file}, {"line", frame.line}, {"function", frame.function}});
    return frames;
}

// The inverse, for what a peer sent: frames that are not objects are left out, missing or
// mistyped fields are empty.
std::vector<StackFrame> stack_from_json(const Value& data) {
    std::vector<StackFrame> stack;
    if (!data.is_object() || !data.contains("stack") || !data["stack"].is_array()) return stack;
    for (const auto& frame : data["stack"]) {
        if (!frame.is_object()) continue;
        auto line = frame.find("line");
        stack.push_back({text_field(frame, "file"),
                         line != frame.end() && line->is_number_integer() ? line->get<int>() : 0,
                         text_field(frame, "function")});
    }
    return stack;
}

RpcError described(int code, const char* type, const BondException& error) {
    return {code, error.message(), {{"type", type}, {"lang", error.lang()}}};
}

}  // namespace

RpcError to_rpc_error(const BondException& error) {
    // Subclasses before their bases: LimitExceeded and Interrupted are RemoteExceptions.
    if (const auto* remote = dynamic_cast<const RemoteException*>(&error)) {
        if (const auto* exceeded = dynamic_cast<const LimitExceeded*>(&error)) {
            RpcError stopped = described(kStopped, "LimitExceeded", error);
            stopped.data["limit"] = exceeded->limit();
            return stopped;
        }
        if (dynamic_cast<const Interrupted*>(&error))
            return described(kStopped, "Interrupted", error);
        RpcError raised = described(kRemoteException, "RemoteException", error);
        raised.data["data"] = remote->data();
        if (!remote->stack().empty()) raised.data["stack"] = stack_as_json(remote->stack());
        return raised;
    }
    if (const auto* serialization = dynamic_cast<const SerializationException*>(&error)) {
        RpcError failed = described(kSerializationException, "SerializationException", error);
        failed.data["side"] = serialization->side();
        return failed;
    }
    if (const auto* terminated = dynamic_cast<const TerminatedException*>(&error)) {
        RpcError ended = described(kTerminatedException, "TerminatedException", error);
        if (auto status = terminated->exit_status()) ended.data["exit_status"] = *status;
        return ended;
    }
    if (dynamic_cast<const TimeoutException*>(&error))
        return described(kTimeoutException, "TimeoutException", error);
    return described(kBondException, "BondException", error);
}

RpcError to_rpc_error(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const BondException& bond_error) {
        return to_rpc_error(bond_error);
    } catch (const std::exception& unexpected) {
        return {kInternalError, unexpected.what(), {{"type", "InternalError"}}};
    } catch (...) {
        return {kInternalError, "a non-standard exception", {{"type", "InternalError"}}};
    }
}

void throw_rpc_error(const RpcError& error) {
    const Value& data = error.data;
    const std::string& message = error.message;
    std::string lang = text_field(data, "lang");
    switch (error.code) {
        case kRemoteException:
            throw RemoteException(
                lang, message,
                data.is_object() && data.contains("data") ? data["data"] : Value(message),
                stack_from_json(data));
        case kSerializationException: {
            std::string side = text_field(data, "side");
            throw SerializationException(lang, side, without_side(message, side));
        }
        case kStopped: {
            std::string limit = text_field(data, "limit");
            if (!limit.empty()) throw LimitExceeded(lang, limit, message);
            throw Interrupted(lang, message);
        }
        case kTerminatedException: {
            std::optional<int> status;
            if (data.is_object() && data.contains("exit_status") &&
                data["exit_status"].is_number_integer())
                status = data["exit_status"].get<int>();
            throw TerminatedException(lang, message, status);
        }
        case kTimeoutException:
            throw TimeoutException(lang, message);
        case kBondException:
            throw BondException(lang, message);
        default:
            throw BondException(lang,
                                message + " (JSON-RPC error " + std::to_string(error.code) + ")");
    }
}

}  // namespace bond::detail
