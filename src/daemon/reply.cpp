#include "reply.hpp"

#include "client_connection.hpp"

#include <bond/errors.hpp>

#include <atomic>

namespace bond::daemon {

// NOLINT below: clang-tidy 14 says so of every class with a nlohmann::json member.
struct Reply::State {  // NOLINT(bugprone-exception-escape)
    std::shared_ptr<ClientConnection> client;
    Value id;
    bool wanted;
    std::atomic<bool> answered{false};

    // The first to answer (or the destructor, for a request dropped unanswered) takes the turn:
    // it sends the answer, if one is wanted.
    bool take_turn() {
        if (answered.exchange(true)) return false;
        client->request_answered();
        return wanted;
    }
    ~State() {
        try {
            if (take_turn())
                client->send(error_line(
                    id, jsonrpc_error(detail::kInternalError, "the request was dropped")));
            client->request_done();
        } catch (...) {  // a destructor must not throw (bad_alloc)
        }
    }
};

Reply::Reply(std::shared_ptr<ClientConnection> client, Value id, bool wanted)
    : state_(std::make_shared<State>()) {
    state_->client = std::move(client);
    state_->id = std::move(id);
    state_->wanted = wanted;
}

void Reply::result(const Value& value) const {
    if (!state_->take_turn()) return;
    std::string line;
    try {
        line = detail::encode_result(state_->id, value);
    } catch (const detail::EncodingError& problem) {
        // Which bond's result it was is not known here: the error names no language.
        RpcError error = detail::to_rpc_error(SerializationException(
            "", "local", std::string("cannot encode the result: ") + problem.what()));
        line = error_line(state_->id, error);
    }
    state_->client->send(std::move(line));
}

void Reply::error(const RpcError& error) const {
    if (!state_->take_turn()) return;
    state_->client->send(error_line(state_->id, error));
}

void Reply::complete(const Value& value, const std::exception_ptr& error) const {
    if (error)
        fail(error);
    else
        result(value);
}

}  // namespace bond::daemon
