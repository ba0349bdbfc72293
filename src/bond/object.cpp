// bond::Object: the handle's operations, forwarded to the Session of the bond that holds the
// value, and the hold itself, given back when the last copy of the handle goes.
#include "session.hpp"

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

Value object_invoke(const ObjectState& state, const std::string* method, CallArguments arguments) {
    auto session = holder(state);
    return session->plain_result(session->invoke(state.number, method, std::move(arguments), false),
                                 operation_name(state, method));
}

Object object_invoke_kept(const ObjectState& state, const std::string* method,
                          CallArguments arguments) {
    return kept_object(holder(state)->invoke(state.number, method, std::move(arguments), true));
}

const std::shared_ptr<ObjectState>& state_of(const Object& object) {
    return object.state_;
}

Object object_from_state(std::shared_ptr<ObjectState> state) {
    return Object(std::move(state));
}

Object call_kept_on(
    std::shared_ptr<Session> session,  // NOLINT(performance-unnecessary-value-param)
    std::string_view name, CallArguments arguments) {
    if (!session) throw BondException("", "this bond was moved from");
    return kept_object(session->call_carried(name, std::move(arguments), nullptr, true));
}

}  // namespace detail

Value Object::get(std::string_view name) const {
    auto session = detail::holder(*state_);
    std::string attribute(name);
    return session->plain_result(session->get(state_->number, &attribute, false),
                                 attribute + " of " + describe());
}

Object Object::get_object(std::string_view name) const {
    std::string attribute(name);
    return detail::kept_object(detail::holder(*state_)->get(state_->number, &attribute, true));
}

void Object::set_argument(std::string_view name, detail::CallArguments value) const {
    detail::holder(*state_)->set(state_->number, std::string(name), std::move(value));
}

Value Object::value() const {
    auto session = detail::holder(*state_);
    detail::Carried copy = session->get(state_->number, nullptr, false);
    if (!copy.objects.empty())
        throw SerializationException(state_->lang, "remote",
                                     describe() + " has no JSON form: it is not data");
    return std::move(copy.value);
}

std::string Object::describe() const {
    return "<" + state_->lang + " object " + state_->type + " #" + std::to_string(state_->number) +
           ">";
}

bool Object::alive() const {
    auto session = state_->owner.lock();
    return session && session->alive();
}

}  // namespace bond
