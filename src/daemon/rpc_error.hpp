// The daemon's errors as JSON-RPC error objects: what the library raises, by the one table of
// protocol/error_codes.hpp, and the daemon's own refusals. See docs/daemon.md, Errors.
#pragma once

#include "../protocol/error_codes.hpp"

#include <bond/value.hpp>

#include <exception>
#include <stdexcept>
#include <string>

namespace bond::daemon {

using detail::RpcError;

// The daemon's own refusals (bad params, an unknown bond, ...), thrown where they are found and
// answered as they are.
class RpcFailure : public std::runtime_error {
  public:
    explicit RpcFailure(RpcError error)
        : std::runtime_error(error.message), error_(std::move(error)) {}
    const RpcError& error() const noexcept { return error_; }

  private:
    RpcError error_;
};

// An error of one of JSON-RPC's own codes (-32700 to -32603), its data {type} naming it as the
// library's exceptions are named by theirs: "ParseError", "InvalidRequest", "MethodNotFound",
// "InvalidParams", "InternalError" (docs/daemon.md, Errors).
RpcError jsonrpc_error(detail::ErrorCode code, const std::string& message);
// -32602 "invalid params", data {type: "InvalidParams"}.
RpcFailure invalid_params(const std::string& message);
// -32005 with data {type: "BondException", lang}: an unknown bond, a refused request.
RpcFailure bond_error(const std::string& message, const std::string& lang = "");
// The error object for an RpcFailure, an exception of the library, or anything else.
RpcError describe_exception(const std::exception_ptr& error);
// The line that answers request `id` with `error`.
std::string error_line(const Value& id, const RpcError& error);

}  // namespace bond::daemon
