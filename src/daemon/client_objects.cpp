#include "client_objects.hpp"

#include "held_bond.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace bond::daemon {
namespace {

constexpr const char* kTag = "$object";

// {"$object": n}, or as handed out, {"$object": n, "type": T}: the client may pass back what it
// was given as it is.
bool is_handle(const Value& node) {
    if (!node.is_object() || !node.contains(kTag)) return false;
    for (auto it = node.begin(); it != node.end(); ++it)
        if (it.key() != kTag && it.key() != "type")
            throw BondException("",
                                "a map with the key \"$object\" is an object handle, "
                                "{\"$object\": N}, and has no key \"" +
                                    it.key() + "\"");
    return true;
}

}  // namespace

void ClientObjects::add_bond(const std::string& id, std::weak_ptr<HeldBond> bond) {
    std::lock_guard lock(mutex_);
    for (const auto& entry : bonds_)
        if (entry.first == id) return;  // attached to again
    bonds_.emplace_back(id, std::move(bond));
}

std::vector<std::string> ClientObjects::owners_of(const std::vector<bond::Object>& objects,
                                                  const std::string& returned_by) const {
    std::vector<std::pair<std::string, std::shared_ptr<HeldBond>>> bonds;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, weak] : bonds_)
            if (auto held = weak.lock()) bonds.emplace_back(id, std::move(held));
    }
    // Asked outside the lock (a bond answers under its own mutex), the bond that gave the result
    // first: its own objects are the common case.
    std::stable_partition(bonds.begin(), bonds.end(),
                          [&](const auto& entry) { return entry.first == returned_by; });
    std::vector<std::string> owners;
    owners.reserve(objects.size());
    for (const auto& object : objects) {
        // Of a bond the client no longer holds, the one that gave it: the object runner finds
        // its owner.
        const std::string* owner = &returned_by;
        for (const auto& [id, held] : bonds)
            if (held->holds(object)) {
                owner = &id;
                break;
            }
        owners.push_back(*owner);
    }
    return owners;
}

Value ClientObjects::hand_out(const std::string& bond, bond::Result result) {
    if (result.objects.empty()) return std::move(result.value);
    std::vector<std::string> owners = owners_of(result.objects, bond);
    std::vector<std::uint64_t> numbers(result.objects.size(), 0);
    {
        std::lock_guard lock(mutex_);
        for (std::size_t k = 0; k < result.objects.size(); ++k) {
            numbers[k] = ++last_number_;
            held_.emplace(numbers[k], Held{owners[k], result.objects[k]});
        }
    }
    std::function<void(Value&)> replace = [&](Value& node) {
        std::int64_t index = detail::placeholder_index(node, result.objects.size());
        if (index >= 0) {
            auto k = static_cast<std::size_t>(index);
            node = Value{{kTag, numbers[k]}, {"type", result.objects[k].type()}};
        } else if (node.is_structured()) {
            for (auto& element : node) replace(element);
        }
    };
    replace(result.value);
    return std::move(result.value);
}

void ClientObjects::take_in(Value argument, detail::CallArguments& into) const {
    std::function<void(Value&)> replace = [&](Value& node) {
        if (is_handle(node)) {
            Held held = find(node);
            node = detail::object_placeholder(into.objects.size());
            into.objects.push_back(detail::state_of(held.object));
        } else if (node.is_object() && node.size() == 1 && node.contains("$handle")) {
            throw BondException("",
                                "a map {\"$handle\": ...} is reserved for the library's "
                                "placeholders; pass an object as {\"$object\": N}");
        } else if (node.is_structured()) {
            for (auto& element : node) replace(element);
        }
    };
    replace(argument);
    into.values.push_back(std::move(argument));
}

std::uint64_t ClientObjects::number_of(const Value& handle) const {
    const Value& number = handle.is_object() && handle.contains(kTag) ? handle[kTag] : handle;
    if (!number.is_number_unsigned())
        throw BondException("",
                            "an object is named by its number, as handed out in "
                            "{\"$object\": N}; got " +
                                handle.dump());
    return number.get<std::uint64_t>();
}

ClientObjects::Held ClientObjects::find(const Value& handle) const {
    std::uint64_t number = number_of(handle);
    std::lock_guard lock(mutex_);
    auto found = held_.find(number);
    if (found == held_.end())
        throw BondException("", "object " + std::to_string(number) +
                                    " is not held by this client (never handed out to it, "
                                    "released, or its bond let go of)");
    return found->second;
}

void ClientObjects::release(const Value& numbers) {
    if (!numbers.is_array()) throw BondException("", "objects must be an array of numbers");
    std::vector<Held> going;  // destroyed outside the lock: each may tell its Session
    std::lock_guard lock(mutex_);
    for (const auto& handle : numbers) {
        std::uint64_t number = number_of(handle);
        auto found = held_.find(number);
        if (found == held_.end())
            throw BondException("", "object " + std::to_string(number) +
                                        " is not held by this client (never handed out to it, "
                                        "or already released)");
        going.push_back(std::move(found->second));
        held_.erase(found);
    }
}

void ClientObjects::release_bond(const std::string& bond) {
    std::vector<Held> going;
    std::lock_guard lock(mutex_);
    std::erase_if(bonds_, [&](const auto& entry) { return entry.first == bond; });
    for (auto it = held_.begin(); it != held_.end();) {
        if (it->second.bond == bond) {
            going.push_back(std::move(it->second));
            it = held_.erase(it);
        } else {
            ++it;
        }
    }
}

void ClientObjects::release_all() {
    std::map<std::uint64_t, Held> going;
    std::lock_guard lock(mutex_);
    going.swap(held_);
    bonds_.clear();
}

std::size_t ClientObjects::size() const {
    std::lock_guard lock(mutex_);
    return held_.size();
}

}  // namespace bond::daemon
