// The methods of the daemon's protocol (docs/daemon.md): each request's params are checked, then
// it is carried out, at once on the network thread (attach, close's bookkeeping, list, drivers,
// auth, interrupt, exports) or as an operation on the bond's own thread (open, eval, eval_block,
// call, export, proxy).
// Network thread only, but for run_here(): the bond's thread.
#pragma once

#include "bond_registry.hpp"
#include "client_connection.hpp"
#include "client_objects.hpp"
#include "named_params.hpp"
#include "reply.hpp"

#include "../protocol/jsonrpc.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace bond::daemon {

class MethodDispatcher {
  public:
    // `token`: the one `auth` must present (TCP); none for the other transports.
    MethodDispatcher(BondRegistry& registry, std::optional<std::string> token)
        : registry_(registry), token_(std::move(token)) {}

    void dispatch(const std::shared_ptr<ClientConnection>& client, const detail::Message& request,
                  const Reply& reply);
    // The thread of `bond`, idle, with the client's input lent to it: carries out `request` (an
    // eval, eval_block or call on `bond`, which the client holds) at once on this thread, in
    // `chain`, as dispatch() would have by queueing it.
    static void run_here(const std::shared_ptr<ClientConnection>& client,
                         const detail::Message& request, const Reply& reply,
                         const std::shared_ptr<HeldBond>& bond, ChainId chain);
    // The client has gone: its bonds are released; `released` once those that ended with it
    // are closed.
    void client_left(const std::shared_ptr<ClientConnection>& client,
                     const std::function<void()>& released);

  private:
    using Client = std::shared_ptr<ClientConnection>;
    void open(const Client& client, const Value& params, const Reply& reply);
    void attach(const Client& client, const Value& params, const Reply& reply);
    void eval(const Client& client, const Value& params, const Reply& reply);
    void eval_block(const Client& client, const Value& params, const Reply& reply);
    void run_code(const Client& client, const Value& params, const Reply& reply, bool block);
    void call(const Client& client, const Value& params, const Reply& reply);
    void export_function(const Client& client, const Value& params, const Reply& reply);
    void proxy(const Client& client, const Value& params, const Reply& reply);
    void object_call(const Client& client, const Value& params, const Reply& reply);
    void object_get(const Client& client, const Value& params, const Reply& reply);
    void object_set(const Client& client, const Value& params, const Reply& reply);
    void release(const Client& client, const Value& params, const Reply& reply);
    // The object the request's `object` names, and its bond (which the client must hold).
    std::pair<ClientObjects::Held, std::shared_ptr<HeldBond>> held_object(const Client& client,
                                                                          const NamedParams& named);
    void interrupt(const Client& client, const Value& params, const Reply& reply);
    void exports(const Client& client, const Value& params, const Reply& reply);
    void close(const Client& client, const Value& params, const Reply& reply);
    void list(const Client& client, const Value& params, const Reply& reply);
    void drivers(const Client& client, const Value& params, const Reply& reply);
    void auth(const Client& client, const Value& params, const Reply& reply);
    // Exports `function` into `bond` as `name`, on the bond's thread.
    void export_into(const Client& client, const std::shared_ptr<HeldBond>& bond,
                     const std::string& name, detail::HostFunction function, const Reply& reply);
    // Runs `operation` on `bond`'s thread, in the chain of `client`'s request; answers `reply`.
    void run_on_bond(const Client& client, const std::shared_ptr<HeldBond>& bond,
                     HeldBond::Operation operation, const Reply& reply, bond::Limits limits = {});

    BondRegistry& registry_;
    std::optional<std::string> token_;
};

}  // namespace bond::daemon
