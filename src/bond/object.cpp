// bond::Object: the handle's operations, forwarded to the Session of the bond that holds the
// value, and the hold itself, given back when the last copy of the handle goes.
#include "session.hpp"

#include <functional>

namespace bond {
namespace detail {
namespace {

// The session that holds `state`'s value, alive; BondException once its bond is closed.
std::shared_ptr<Session> holder(const ObjectState& state) {
    auto session = state.owner.lock();
    if (!session || !session->alive())
        throw BondException(state.lang, describe_object(state) +
                                            " cannot be used: the bond that holds it is closed");
    return session;
}

std::string operation_name(const ObjectState& state, const std::string* method) {
    return method ? *method + "() of " + describe_object(state) : describe_object(state);
}

}  // namespace

Object kept_object(Carried result) {
    if (result.objects.size() != 1 || placeholder_index(result.value, 1) != 0)
        throw BondException("", "the interpreter did not keep the result as an object");
    return object_from_state(std::move(result.objects.front()));
}

ObjectState::~ObjectState() {
    if (auto session = owner.lock()) session->queue_release(number);
}

std::string describe_object(const ObjectState& state) {
    return "the " + state.lang + " object " + state.type + " #" + std::to_string(state.number);
}

Carried object_invoke(const ObjectState& state, const std::string* method, CallArguments arguments,
                      Keep keep) {
    auto session = holder(state);
    if (keep != Keep::Value)
        return session->invoke(state.number, method, std::move(arguments), keep);
    Carried result = session->invoke(state.number, method, std::move(arguments), Keep::Objects);
    return {session->plain_result(std::move(result), operation_name(state, method)), {}};
}

Carried object_get(const ObjectState& state, const std::string* name, Keep keep) {
    auto session = holder(state);
    if (keep != Keep::Value) return session->get(state.number, name, keep);
    Carried result = session->get(state.number, name, Keep::Objects);
    if (!name) {
        if (!result.objects.empty())
            throw SerializationException(
                state.lang, "remote", describe_object(state) + " has no JSON form: it is not data");
        return result;
    }
    return {session->plain_result(std::move(result), *name + " of " + describe_object(state)), {}};
}

void object_set(const ObjectState& state, std::string_view name, CallArguments value) {
    holder(state)->set(state.number, std::string(name), std::move(value));
}

const std::shared_ptr<ObjectState>& state_of(const Object& object) {
    return object.state_;
}

Object object_from_state(std::shared_ptr<ObjectState> state) {
    return Object(std::move(state));
}

Result result_of(Carried carried) {
    Result result{std::move(carried.value), {}};
    result.objects.reserve(carried.objects.size());
    for (auto& state : carried.objects)
        result.objects.push_back(object_from_state(std::move(state)));
    return result;
}

}  // namespace detail

const Object& Result::object_at(const Value& placeholder) const {
    std::int64_t index = detail::placeholder_index(placeholder, objects.size());
    if (index < 0) throw BondException("", placeholder.dump() + " stands for no object");
    return objects[static_cast<std::size_t>(index)];
}

std::string Result::describe() const {
    std::function<std::string(const Value&)> text = [&](const Value& node) -> std::string {
        if (detail::placeholder_index(node, objects.size()) >= 0) return object_at(node).describe();
        if (node.is_array()) {
            std::string out = "[";
            for (const auto& element : node) out += (out.size() > 1 ? "," : "") + text(element);
            return out + "]";
        }
        if (node.is_object()) {
            std::string out = "{";
            for (auto it = node.begin(); it != node.end(); ++it)
                out +=
                    (out.size() > 1 ? "," : "") + Value(it.key()).dump() + ":" + text(it.value());
            return out + "}";
        }
        return detail::encode_bytes(node).dump(-1, ' ', false, Value::error_handler_t::replace);
    };
    return text(value);
}

const detail::ObjectState& Object::state() const {
    if (!state_) throw BondException("", "this bond::Object was moved from");
    return *state_;
}

Value Object::get(std::string_view name) const {
    std::string attribute(name);
    return detail::object_get(state(), &attribute, detail::Keep::Value).value;
}

Object Object::get_object(std::string_view name) const {
    std::string attribute(name);
    return detail::kept_object(detail::object_get(state(), &attribute, detail::Keep::Object));
}

Result Object::get_result(std::string_view name) const {
    std::string attribute(name);
    return detail::result_of(detail::object_get(state(), &attribute, detail::Keep::Objects));
}

void Object::set_argument(std::string_view name, detail::CallArguments value) const {
    detail::object_set(state(), name, std::move(value));
}

Value Object::value() const {
    return detail::object_get(state(), nullptr, detail::Keep::Value).value;
}

std::string Object::describe() const {
    return "<" + state().lang + " object " + state().type + " #" + std::to_string(state().number) +
           ">";
}

bool Object::alive() const {
    if (!state_) return false;
    auto session = state_->owner.lock();
    return session && session->alive();
}

}  // namespace bond
