#include "object_tables.hpp"

#include "../protocol/jsonrpc.hpp"
#include "session.hpp"

#include <bond/errors.hpp>

#include <functional>
#include <limits>

namespace bond::detail {

std::size_t ObjectTables::place(Value& value,
                                const std::vector<std::shared_ptr<ObjectState>>& objects,
                                std::vector<std::uint64_t>& lent) {
    if (!value.is_array() && !value.is_object()) return 0;
    std::int64_t index = placeholder_index(value, objects.size());
    if (index < 0) {
        std::size_t placed = 0;
        for (auto& element : value) placed += place(element, objects, lent);
        return placed;
    }
    const std::shared_ptr<ObjectState>& state = objects[static_cast<std::size_t>(index)];
    auto owner = state->owner.lock();
    if (owner.get() == &self_) {
        value = Value{{"$yours", state->number}};
        return 1;
    }
    if (!owner || !owner->alive())
        throw BondException(
            lang_, "cannot pass " + describe_object(*state) + ": the bond that holds it is closed");
    // The same object twice in one message is lent once, so that the interpreter makes one proxy
    // of it (identity holds there too). Across messages numbers are never reused: a proxy's
    // release may be on its way.
    for (auto number : lent)
        if (lent_.at(number) == state) {
            value = Value{{"$obj", number}, {"type", state->type}};
            return 1;
        }
    std::uint64_t number = ++last_lent_;
    lent_.emplace(number, state);
    lent.push_back(number);
    value = Value{{"$obj", number}, {"type", state->type}};
    return 1;
}

void ObjectTables::undo_lending(const std::vector<std::uint64_t>& lent) {
    for (auto number : lent) lent_.erase(number);
}

Carried ObjectTables::take(Value value, bool holds_tags,
                           const std::weak_ptr<Session>& owner) const {
    Carried carried{std::move(value), {}};
    if (!holds_tags) return carried;
    std::function<void(Value&)> walk = [&](Value& node) {
        if (node.is_array()) {
            for (auto& element : node) walk(element);
            return;
        }
        if (!node.is_object()) return;
        if (placeholder_index(node, std::numeric_limits<std::size_t>::max()) >= 0)
            throw ForgedTag("a map {\"$handle\": n} among objects: the host reserves that shape");
        if (is_object_tag(node)) {
            auto type = node.find("type");
            carried.objects.push_back(std::make_shared<ObjectState>(
                owner, node["$obj"].get<std::uint64_t>(),
                type != node.end() ? type->get<std::string>() : "object", lang_));
        } else if (is_yours_tag(node)) {
            auto number = node["$yours"].get<std::uint64_t>();
            auto found = lent_.find(number);
            if (found == lent_.end())
                throw ForgedTag("no object " + std::to_string(number) +
                                " was lent to this interpreter (or it was released)");
            carried.objects.push_back(found->second);
        } else if (is_code_tag(node)) {
            throw ForgedTag("an interpreter cannot send code ({\"$code\": ...}) to the host");
        } else {
            for (auto& element : node) walk(element);
            return;
        }
        node = object_placeholder(carried.objects.size() - 1);
    };
    walk(carried.value);
    return carried;
}

std::shared_ptr<ObjectState> ObjectTables::lent(std::uint64_t number) const {
    auto found = lent_.find(number);
    return found == lent_.end() ? nullptr : found->second;
}

void ObjectTables::release_lent(const Value& numbers) {
    if (!numbers.is_array()) return;
    for (const auto& number : numbers)
        if (number.is_number_unsigned()) lent_.erase(number.get<std::uint64_t>());
}

void ObjectTables::queue_release(std::uint64_t number) {
    std::lock_guard lock(releases_mutex_);
    releases_.push_back(number);
}

std::vector<std::uint64_t> ObjectTables::take_releases() {
    std::vector<std::uint64_t> numbers;
    std::lock_guard lock(releases_mutex_);
    numbers.swap(releases_);
    return numbers;
}

}  // namespace bond::detail
