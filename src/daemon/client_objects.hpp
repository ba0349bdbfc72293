// The remote objects one client holds (docs/daemon.md, Objects). A result that holds objects
// hands each out as {"$object": n, "type": "Cart"}, n counted per client, and the client passes
// them back the same way, as arguments or as the target of object_call, object_get, object_set.
// Numbers are the client's own: another client's number is just unknown here, so a client can
// use only the objects it was given. An object is let go (the interpreter told) when the client
// releases it, lets go of its bond, or goes. An object is filed under the bond whose interpreter
// holds it, whichever of the client's bonds handed it out (one passed to another bond and
// returned from there), so that letting go of that bond lets go of it.
//
// Threads: bond threads hand out and look up, the network thread releases; a mutex guards the
// table. A released bond::Object may tell its interpreter from any thread (Session's queue).
#pragma once

#include <bond/bond.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bond::daemon {

class HeldBond;

class ClientObjects {
  public:
    struct Held {
        std::string bond;  // the id of the bond whose interpreter holds it
        bond::Object object;
    };

    // A bond the client now holds, under which the objects of its interpreter are filed.
    void add_bond(const std::string& id, std::weak_ptr<HeldBond> bond);
    // `result`'s value, each object in it handed out as {"$object": n, "type": T}, filed under
    // the client's bond that holds it, else under `bond`, which gave the result.
    Value hand_out(const std::string& bond, bond::Result result);
    // Appends `argument` to `into`, each {"$object": n} in it (at any depth) the object it
    // names: the original for its own bond, a proxy for another. BondException for an unknown or
    // released number.
    void take_in(Value argument, detail::CallArguments& into) const;
    // The object `handle` names: {"$object": n} or n itself; BondException when there is none.
    Held find(const Value& handle) const;
    // Lets go of the objects numbered `numbers`; BondException naming the first that is not held
    // (those before it are released).
    void release(const Value& numbers);
    // Lets go of every object of `bond` (and of the bond), or of all.
    void release_bond(const std::string& bond);
    void release_all();
    std::size_t size() const;

  private:
    std::uint64_t number_of(const Value& handle) const;
    // The id of the client's bond that holds each object, else `returned_by`.
    std::vector<std::string> owners_of(const std::vector<bond::Object>& objects,
                                       const std::string& returned_by) const;
    mutable std::mutex mutex_;
    std::map<std::uint64_t, Held> held_;
    std::uint64_t last_number_ = 0;
    std::vector<std::pair<std::string, std::weak_ptr<HeldBond>>> bonds_;
};

}  // namespace bond::daemon
