// Every error code bond puts on a wire, the driver protocol's (docs/protocol.md) and the daemon's
// (docs/daemon.md), in one table, so that a number means the same on both; and the two ways
// between the library's exceptions and JSON-RPC error objects, next to each other, so that what
// the daemon sends is what its clients (the bond command) read back.
#pragma once

#include <bond/errors.hpp>
#include <bond/value.hpp>

#include <exception>
#include <string>

namespace bond::detail {

// The daemon uses every code; the driver protocol only JSON-RPC's own and -32000 to -32002.
enum ErrorCode : int {
    kParseError = -32700,
    kInvalidRequest = -32600,
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,           // a fault of the daemon itself
    kRemoteException = -32000,         // the code that ran raised an exception
    kSerializationException = -32001,  // a value could not be encoded
    kStopped = -32002,                 // the code was stopped: LimitExceeded, else Interrupted
    kTerminatedException = -32003,     // the interpreter ended; the bond is dead
    kTimeoutException = -32004,        // no reply in time; the bond has been closed
    kBondException = -32005,           // anything else of the library, or a refused request
};

// A JSON-RPC error object. For an exception of the library, `data` is
// {type, lang, side?, data?, stack?, limit?, exit_status?}: the exception's class, its bond's
// language, and what its class holds besides the message (SerializationException::side(),
// RemoteException::data() and stack() as [{file, line, function}, ...], LimitExceeded::limit(),
// TerminatedException::exit_status() when it has one).
// NOLINT below: clang-tidy 14 says so of every class with a nlohmann::json member.
struct RpcError {  // NOLINT(bugprone-exception-escape)
    int code;
    std::string message;
    Value data;  // null: none
};

// Exception -> error: the error object that carries a library's exception to a client.
RpcError to_rpc_error(const BondException& error);
// The same for any exception: one that is not a BondException is kInternalError, with data
// {type: "InternalError"}.
RpcError to_rpc_error(const std::exception_ptr& error);
// Error -> exception: throws the library's exception that `error` carries, with the language of
// data.lang; the inverse of to_rpc_error for every BondException. A code that is not bond's own
// (JSON-RPC's, or an unknown one) throws BondException with the code in its message.
[[noreturn]] void throw_rpc_error(const RpcError& error);

}  // namespace bond::detail
