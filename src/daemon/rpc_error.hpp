// The daemon's errors as JSON-RPC error objects: bond's codes for what the library raises
// (RemoteException -32001 ... Interrupted -32007), JSON-RPC's own for malformed requests, each
// with `data` {type, lang, side?, data?, limit?}. See docs/daemon.md, Errors.
#pragma once

#include "../protocol/jsonrpc.hpp"

#include <bond/value.hpp>

#include <exception>
#include <stdexcept>
#include <string>

namespace bond::daemon {

enum DaemonErrorCode : int {
    kRemoteException = -32001,
    kSerializationException = -32002,
    kTerminatedException = -32003,
    kTimeoutException = -32004,
    kBondException = -32005,
    kLimitExceeded = -32006,
    kInterrupted = -32007,
    kInternalError = -32603,
};

struct RpcError {
    int code;
    std::string message;
    Value data;  // null: none
};

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

// -32602 "invalid params".
RpcFailure invalid_params(const std::string& message);
// -32005 with data {type: "BondException", lang}: an unknown bond, a refused request.
RpcFailure bond_error(const std::string& message, const std::string& lang = "");
// The error object for an exception of the library, of the daemon, or anything else.
RpcError describe_exception(const std::exception_ptr& error);

}  // namespace bond::daemon
