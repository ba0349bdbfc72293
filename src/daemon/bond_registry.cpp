#include "bond_registry.hpp"

#include "daemon_log.hpp"
#include "rpc_error.hpp"

#include <chrono>

namespace bond::daemon {

void BondRegistry::open(const std::shared_ptr<ClientConnection>& client, OpenRequest request,
                        Opened opened) {
    if (closed_) throw bond_error("the daemon is shutting down");
    check_room(*client);
    const std::optional<std::string>& name = request.name;
    if (name && names_.count(*name))
        throw bond_error("a bond named '" + *name + "' exists already; attach to it");
    if (request.fits_pool) {
        if (auto warm = pool_.take(request.lang)) {
            adopt(client, warm, name);
            log().info("bond {} opened for client {} from the warm pool: {}, pid {}", warm->id(),
                       client->id(), warm->lang(), warm->pid());
            return opened(warm, nullptr);
        }
    }
    // Held from now on, so that requests for it may follow at once: they wait for the start.
    auto started = [this, client](const std::shared_ptr<HeldBond>& held,
                                  const std::exception_ptr& error) {
        if (error) {
            forget(*held);
            client->bonds().erase(held->id());
            client->objects()->release_bond(held->id());
            return;
        }
        log().info("bond {} opened for client {}: {}, pid {}", held->id(), client->id(),
                   held->lang(), held->pid());
    };
    auto held = HeldBond::start(workers_, next_id(), request.lang, std::move(request.options),
                                std::move(started));
    adopt(client, held, name);
    // Answered on the bond's thread once it has started, before what was sent to it later runs.
    held->run(
        client->chain_for(held->id()), client,
        [](bond::Bond&, const bond::Limits&) { return Value(); },
        [held, opened = std::move(opened)](const Value&, const std::exception_ptr& error) {
            opened(error ? nullptr : held, error);
        });
}

void BondRegistry::adopt(const std::shared_ptr<ClientConnection>& client,
                         const std::shared_ptr<HeldBond>& held,
                         const std::optional<std::string>& name) {
    bonds_[held->id()] = held;
    held->add_holder(client->id());
    client->bonds().insert(held->id());
    client->objects()->add_bond(held->id(), held);
    if (name) {
        names_[*name] = held->id();
        held->name() = name;
    }
}

void BondRegistry::forget(HeldBond& held) {
    auto found = bonds_.find(held.id());
    if (found != bonds_.end() && found->second.get() == &held) bonds_.erase(found);
    if (held.name()) {
        auto named = names_.find(*held.name());
        if (named != names_.end() && named->second == held.id()) names_.erase(named);
    }
}

void BondRegistry::check_room(const ClientConnection& client) {
    std::size_t most = client.limits().max_bonds;
    if (client.bonds().size() >= most)
        throw bond_error("this client holds " + std::to_string(most) +
                         " bonds already, as many as the daemon allows (bondd --max-client-bonds); "
                         "close one first");
}

std::shared_ptr<HeldBond> BondRegistry::attach(const std::shared_ptr<ClientConnection>& client,
                                               const std::string& name) {
    auto named = names_.find(name);
    if (named == names_.end()) throw bond_error("no bond is named '" + name + "'");
    std::shared_ptr<HeldBond> held = bonds_.at(named->second);
    if (!client->bonds().count(held->id())) check_room(*client);
    held->add_holder(client->id());
    client->bonds().insert(held->id());
    client->objects()->add_bond(held->id(), held);
    log().info("client {} attached to bond {} ('{}')", client->id(), held->id(), name);
    return held;
}

std::shared_ptr<HeldBond> BondRegistry::held_by(const ClientConnection& client,
                                                const std::string& id) const {
    auto found = bonds_.find(id);
    if (found == bonds_.end() || !found->second->held_by(client.id()))
        throw bond_error("the bond '" + id + "' is unknown to this client");
    return found->second;
}

void BondRegistry::release(ClientConnection& client, const std::string& id,
                           std::function<void()> released) {
    std::shared_ptr<HeldBond> held = held_by(client, id);
    held->remove_holder(client.id());
    client.bonds().erase(id);
    if (held->holder_count() > 0) {
        held->interrupt_for(client.id());  // what it asked for no longer has anyone to answer
        log().info("client {} let go of bond {}; {} other client(s) hold it", client.id(), id,
                   held->holder_count());
        return released();
    }
    forget(*held);
    log().info("bond {} closing: its last client {} let it go", id, client.id());
    held->close(std::move(released));
}

void BondRegistry::release_all(ClientConnection& client, const std::function<void()>& released) {
    auto ids = client.bonds();
    if (ids.empty()) return released();
    auto remaining = std::make_shared<std::size_t>(ids.size());
    auto one_released = [remaining, released] {
        if (--*remaining == 0) released();
    };
    for (const auto& id : ids) {
        if (bonds_.count(id)) {
            release(client, id, one_released);
        } else {  // closed already, at shutdown
            client.bonds().erase(id);
            one_released();
        }
    }
}

namespace {
const char* state(const HeldBond& held) {
    if (held.ended()) return "ended";
    if (!held.started()) return "starting";
    return held.busy() ? "busy" : "idle";
}
}  // namespace

Value BondRegistry::list(const ClientConnection& client) const {
    Value bonds = Value::array();
    auto now = std::chrono::steady_clock::now();
    for (const auto& [id, held] : bonds_) {
        bool holds = held->held_by(client.id());
        if (!holds && !held->name()) continue;
        Value entry = {
            {"bond", id},
            {"lang", held->lang()},
            {"pid", held->pid()},
            {"age", std::chrono::duration<double>(now - held->asked_at()).count()},
            {"state", state(*held)},
            {"held", holds},
            {"clients", held->holder_count()},
        };
        if (held->name()) entry["name"] = *held->name();
        bonds.push_back(std::move(entry));
    }
    return bonds;
}

void BondRegistry::close_all() {
    closed_ = true;
    for (auto& [id, held] : bonds_) held->close();
    bonds_.clear();
    names_.clear();
    pool_.close_all();
}

}  // namespace bond::daemon
