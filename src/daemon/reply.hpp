// The answer to one request of a client, given once from whichever thread finishes the request
// (the network thread, or a bond's). A request is counted as in flight until its Reply is gone;
// a Reply dropped unanswered answers with an internal error, so no request goes unanswered.
#pragma once

#include "rpc_error.hpp"

#include <bond/value.hpp>

#include <exception>
#include <memory>

namespace bond::daemon {

class ClientConnection;

class Reply {
  public:
    // `wanted` is false for a notification: it is carried out but not answered.
    Reply(std::shared_ptr<ClientConnection> client, Value id, bool wanted);

    void result(const Value& value) const;
    void error(const RpcError& error) const;
    void fail(const std::exception_ptr& error) const { this->error(describe_exception(error)); }
    // As a HeldBond::Completion: the result, or the error.
    void complete(const Value& value, const std::exception_ptr& error) const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace bond::daemon
