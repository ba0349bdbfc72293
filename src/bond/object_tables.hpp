// The objects one interpreter's messages carry, as the host keeps them: the host's objects lent
// to the interpreter (it holds proxies of them, by numbers the host gave), and the interpreter's
// own objects the host has let go of, to be released with the next message. It turns a value's
// Objects into the protocol's tags ({"$obj": n}, {"$yours": n}) and back. Used by the Session's
// thread, except queue_release(), which any thread may call.
#pragma once

#include <bond/detail/arguments.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace bond::detail {

class Session;

// A tag of the interpreter that the host cannot accept: an object it was never lent, or code.
struct ForgedTag : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class ObjectTables {
  public:
    // The tables of `self`'s interpreter, whose language is `lang`.
    ObjectTables(const Session& self, std::string lang) : self_(self), lang_(std::move(lang)) {}

    // Placeholders of `value` become {"$yours": n} for this interpreter's own objects and
    // {"$obj": n, "type": T} for others' (lent: new entries, their numbers added to `lent` so
    // that undo_lending() can take them back when the message is not sent; an object already in
    // `lent` keeps its number). Returns how many it placed; BondException for an object whose
    // bond is closed.
    std::size_t place(Value& value, const std::vector<std::shared_ptr<ObjectState>>& objects,
                      std::vector<std::uint64_t>& lent);
    void undo_lending(const std::vector<std::uint64_t>& lent);
    // The interpreter's tags in a value it sent become placeholders of Objects (a walk only when
    // its message `holds_tags`), its own objects held by `owner`; ForgedTag when it names an
    // object the host did not lend it, or sends code.
    Carried take(Value value, bool holds_tags, const std::weak_ptr<Session>& owner) const;

    // The object lent as `number`; null when there is none (released, or never lent).
    std::shared_ptr<ObjectState> lent(std::uint64_t number) const;
    // The interpreter's "release" notification: its proxies of these numbers were collected.
    void release_lent(const Value& numbers);
    // The interpreter is gone, and its proxies with it.
    void clear_lent() { lent_.clear(); }
    std::size_t lent_count() const { return lent_.size(); }

    // Thread-safe: object `number` of the interpreter's table is no longer held by the host.
    void queue_release(std::uint64_t number);
    // The numbers queued since the last call, for one "release" notification.
    std::vector<std::uint64_t> take_releases();

  private:
    const Session& self_;
    std::string lang_;
    // By the number the interpreter knows each by; numbers are never reused.
    std::unordered_map<std::uint64_t, std::shared_ptr<ObjectState>> lent_;
    std::uint64_t last_lent_ = 0;
    std::mutex releases_mutex_;
    std::vector<std::uint64_t> releases_;
};

}  // namespace bond::detail
