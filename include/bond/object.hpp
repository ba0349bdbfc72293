// bond::Object: a handle to a value that stays in its interpreter (a PHP object, a Python
// closure, a Perl blessed hash, a JavaScript class instance or Promise). Copies share one hold on
// the remote value; when the last copy goes, the interpreter is told to let it go. An Object is
// accepted wherever an argument is: its own bond receives the original, another bond a proxy in
// its own language that forwards to the owner (docs/objects.md).
#pragma once

#include <bond/value.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

class Object;
struct Result;

namespace detail {
class Session;
struct CallArguments;
template <class... A>
CallArguments make_arguments(A&&... arguments);

// One hold on a value in an interpreter's table of objects: its number there, whose table it is,
// and the language's name for its class. Lets the value go when the last Object sharing it does.
struct ObjectState {
    ObjectState(std::weak_ptr<Session> owner, std::uint64_t number, std::string type,
                std::string lang)
        : owner(std::move(owner)), number(number), type(std::move(type)), lang(std::move(lang)) {}
    ~ObjectState();
    ObjectState(const ObjectState&) = delete;
    ObjectState& operator=(const ObjectState&) = delete;

    std::weak_ptr<Session> owner;
    std::uint64_t number;
    std::string type;
    std::string lang;
};

// The operations an Object forwards to its bond: the result as a value, or kept as an Object.
Value object_invoke(const ObjectState& state, const std::string* method, CallArguments arguments);
Object object_invoke_kept(const ObjectState& state, const std::string* method,
                          CallArguments arguments);
Result object_invoke_result(const ObjectState& state, const std::string* method,
                            CallArguments arguments);
// An attribute (a null name: the object's JSON copy), objects in it kept.
Result object_get_result(const ObjectState& state, const std::string* name);
void object_set(const ObjectState& state, std::string_view name, CallArguments value);
const std::shared_ptr<ObjectState>& state_of(const Object& object);
// "the PHP object Invoice #3"
std::string describe_object(const ObjectState& state);
Object object_from_state(std::shared_ptr<ObjectState> state);
Result call_result_on(std::shared_ptr<Session> session, std::string_view name,
                      CallArguments arguments);
}  // namespace detail

class Object {
  public:
    // Calls method `method` of the object: the result as a value, or kept remotely as an Object.
    template <class... A>
    Value call(std::string_view method, A&&... arguments) const {
        std::string name(method);
        return detail::object_invoke(state(), &name,
                                     detail::make_arguments(std::forward<A>(arguments)...));
    }
    template <class... A>
    Object call_object(std::string_view method, A&&... arguments) const {
        std::string name(method);
        return detail::object_invoke_kept(state(), &name,
                                          detail::make_arguments(std::forward<A>(arguments)...));
    }
    // call() for results that may hold objects anywhere, like Bond::call_result.
    template <class... A>
    Result call_result(std::string_view method, A&&... arguments) const;
    // Calls the object itself: a function, closure, code reference or invokable object.
    template <class... A>
    Value operator()(A&&... arguments) const {
        return detail::object_invoke(state(), nullptr,
                                     detail::make_arguments(std::forward<A>(arguments)...));
    }
    template <class... A>
    Object invoke_object(A&&... arguments) const {
        return detail::object_invoke_kept(state(), nullptr,
                                          detail::make_arguments(std::forward<A>(arguments)...));
    }

    // An attribute or property; a method read this way is a callable bound to the object.
    Value get(std::string_view name) const;
    Object get_object(std::string_view name) const;
    Result get_result(std::string_view name) const;
    // Sets an attribute or property; `value` is converted like an argument (an Object too).
    template <class T>
    void set(std::string_view name, T&& value) const {
        set_argument(name, detail::make_arguments(std::forward<T>(value)));
    }
    // A JSON copy of the object, where its language can make one (a Promise is awaited);
    // SerializationException where it cannot.
    Value value() const;

    // The language's own name of the object's class or type: "Invoice", "Closure", "function".
    const std::string& type() const { return state().type; }
    // The language of the bond that holds it.
    const std::string& lang() const { return state().lang; }
    // "<PHP object Invoice #3>": the object's number in its interpreter's table.
    std::string describe() const;
    // Whether the bond that holds it is still open.
    bool alive() const;

  private:
    friend const std::shared_ptr<detail::ObjectState>& detail::state_of(const Object&);
    friend Object detail::object_from_state(std::shared_ptr<detail::ObjectState>);
    explicit Object(std::shared_ptr<detail::ObjectState> state) : state_(std::move(state)) {}
    void set_argument(std::string_view name, detail::CallArguments value) const;
    // The hold; BondException for a moved-from Object.
    const detail::ObjectState& state() const;
    std::shared_ptr<detail::ObjectState> state_;
};

// A result that may hold objects anywhere in it (a list of PHP objects, a map with a closure):
// `value` is its JSON, in which each object stands as {"$handle": k}, k its index in `objects`.
// Bond::eval_result and Bond::call_result give one.
struct Result {
    Value value;
    std::vector<Object> objects;
    // The object a placeholder of `value` stands for; BondException when it stands for none.
    const Object& object_at(const Value& placeholder) const;
    // The value as JSON text with each object as its describe(): [1,<PHP object Cart #3>].
    std::string describe() const;
};

template <class... A>
Result Object::call_result(std::string_view method, A&&... arguments) const {
    std::string name(method);
    return detail::object_invoke_result(state(), &name,
                                        detail::make_arguments(std::forward<A>(arguments)...));
}

}  // namespace bond
