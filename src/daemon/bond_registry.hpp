// The bonds the daemon holds for its clients: each by its id, the named ones also by name; who
// holds each (the client that opened it and those attached to it); opening (from the warm pool
// when it can), attaching, releasing, and closing a bond once its last holder lets it go.
// Network thread only.
#pragma once

#include "client_connection.hpp"
#include "held_bond.hpp"
#include "open_request.hpp"
#include "warm_pool.hpp"
#include "workers.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace bond::daemon {

class BondRegistry {
  public:
    using Opened = std::function<void(std::shared_ptr<HeldBond> bond, std::exception_ptr error)>;

    BondRegistry(Workers& workers, WarmPool& pool) : workers_(workers), pool_(pool) {}

    // A new id: "b1", "b2", ...
    std::string next_id() { return "b" + std::to_string(++last_id_); }

    // Opens a bond for `client`, who holds it at once (requests for it wait for it to start).
    // `opened` runs once it has started, or could not (then it is forgotten): on the bond's
    // thread, before any operation sent to the bond later (at once for one from the warm pool).
    // Throws RpcFailure when it is refused at once (a name in use, the client holding as many
    // bonds as it may, the daemon ending).
    void open(const std::shared_ptr<ClientConnection>& client, OpenRequest request, Opened opened);
    // Makes `client` a holder of the bond named `name`; throws RpcFailure if there is none, or the
    // client holds as many bonds as it may.
    std::shared_ptr<HeldBond> attach(const std::shared_ptr<ClientConnection>& client,
                                     const std::string& name);
    // The bond `id`, if `client` holds it; else RpcFailure "unknown bond".
    std::shared_ptr<HeldBond> held_by(const ClientConnection& client, const std::string& id) const;
    // `client` lets go of bond `id`; if nobody else holds it, it is closed. `released` runs once
    // it is closed, or at once when others still hold it. Throws RpcFailure like held_by.
    void release(ClientConnection& client, const std::string& id, std::function<void()> released);
    // The same for every bond of `client`; `released` once all are done.
    void release_all(ClientConnection& client, const std::function<void()>& released);
    // The bonds `client` holds and the named ones it may attach to (the `list` method).
    Value list(const ClientConnection& client) const;
    // Shutdown: closes every bond and refuses to open more.
    void close_all();

  private:
    // Throws RpcFailure when `client` holds as many bonds as it may (ClientLimits).
    static void check_room(const ClientConnection& client);
    void adopt(const std::shared_ptr<ClientConnection>& client,
               const std::shared_ptr<HeldBond>& held, const std::optional<std::string>& name);
    // Drops `held` from the ids and names (holders may still have its id: it is now unknown).
    void forget(HeldBond& held);

    Workers& workers_;
    WarmPool& pool_;
    std::uint64_t last_id_ = 0;
    std::map<std::string, std::shared_ptr<HeldBond>> bonds_;
    std::map<std::string, std::string> names_;  // name -> id
    bool closed_ = false;
};

}  // namespace bond::daemon
