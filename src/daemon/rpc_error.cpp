#include "rpc_error.hpp"

#include "../protocol/jsonrpc.hpp"

#include <bond/errors.hpp>

namespace bond::daemon {

namespace {

const char* type_of(detail::ErrorCode code) {
    switch (code) {
        case detail::kParseError:
            return "ParseError";
        case detail::kInvalidRequest:
            return "InvalidRequest";
        case detail::kMethodNotFound:
            return "MethodNotFound";
        case detail::kInvalidParams:
            return "InvalidParams";
        default:
            return "InternalError";
    }
}

}  // namespace

RpcError jsonrpc_error(detail::ErrorCode code, const std::string& message) {
    return {code, message, {{"type", type_of(code)}}};
}

RpcFailure invalid_params(const std::string& message) {
    return RpcFailure(jsonrpc_error(detail::kInvalidParams, message));
}

RpcFailure bond_error(const std::string& message, const std::string& lang) {
    return RpcFailure(detail::to_rpc_error(BondException(lang, message)));
}

std::string error_line(const Value& id, const RpcError& error) {
    return detail::encode_error(id, error.code, error.message, error.data);
}

RpcError describe_exception(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const RpcFailure& failure) {
        return failure.error();
    } catch (...) {
        return detail::to_rpc_error(std::current_exception());
    }
}

}  // namespace bond::daemon
