// bond::Object: a handle to a value that stays in its interpreter (a PHP object, a Python
// closure, a Perl blessed hash, a JavaScript class instance or Promise). Copies share one hold on
// the remote value; when the last copy goes, the interpreter is told to let it go. An Object is
// accepted wherever an argument is: its own bond receives the original, another bond a proxy in
// its own language that forwards to the owner (docs/objects.md).
#pragma once

#include <bond/detail/arguments.hpp>
#include <bond/value.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bond {

class Object;
struct Result;

namespace detail {
class Session;

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

// What a caller keeps of a remote call's result: its JSON (a SerializationException when it
// holds objects), the whole result as one Object left in the interpreter, or its JSON with the
// Objects anywhere in it (a Result).
enum class Keep { Value, Object, Objects };

// The one way every remote operation returns, whatever it calls (a name of the language, an
// object, an object's method): Session's operations give a Carried shaped by Keep, and these
// turn it into what the caller asked for.
Object kept_object(Carried result);
Result result_of(Carried carried);

// Calling a remote callable, written once for every kind of it (pybind11's object_api): Function
// and Object derive from it and define one primitive,
// `Carried invoke_as(CallArguments, Keep) const`.
template <class Derived>
class callable_api {
  public:
    // Calls it: the result as a value.
    template <class... A>
    Value operator()(A&&... arguments) const {
        return derived()
            .invoke_as(make_arguments(std::forward<A>(arguments)...), Keep::Value)
            .value;
    }
    // Calls it and keeps the result in its interpreter: an Object (`auto`: Object is not yet
    // complete where this is declared).
    template <class... A>
    auto invoke_object(A&&... arguments) const {
        return kept_object(
            derived().invoke_as(make_arguments(std::forward<A>(arguments)...), Keep::Object));
    }
    // Calls it: JSON where it can carry the result, an Object where it cannot (a Result).
    template <class... A>
    auto invoke_result(A&&... arguments) const {
        return result_of(
            derived().invoke_as(make_arguments(std::forward<A>(arguments)...), Keep::Objects));
    }

  private:
    const Derived& derived() const { return static_cast<const Derived&>(*this); }
};

// The operations an Object forwards to its bond; a null method or name means the object itself
// (calling it; its JSON copy).
Carried object_invoke(const ObjectState& state, const std::string* method, CallArguments arguments,
                      Keep keep);
Carried object_get(const ObjectState& state, const std::string* name, Keep keep);
void object_set(const ObjectState& state, std::string_view name, CallArguments value);
// "the PHP object Invoice #3"
std::string describe_object(const ObjectState& state);
}  // namespace detail

class Object : public detail::callable_api<Object> {
  public:
    // Calling the object itself (a function, closure, code reference or invokable object):
    // obj(args...), obj.invoke_object(args...), obj.invoke_result(args...), as for a Function.

    // Calls method `method` of the object: the result as a value, kept remotely as an Object, or
    // with objects anywhere in it (like Bond::call_result).
    template <class... A>
    Value call(std::string_view method, A&&... arguments) const {
        return call_as(method, detail::make_arguments(std::forward<A>(arguments)...),
                       detail::Keep::Value)
            .value;
    }
    template <class... A>
    Object call_object(std::string_view method, A&&... arguments) const {
        return detail::kept_object(call_as(
            method, detail::make_arguments(std::forward<A>(arguments)...), detail::Keep::Object));
    }
    template <class... A>
    Result call_result(std::string_view method, A&&... arguments) const;

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
    friend class detail::callable_api<Object>;
    friend const std::shared_ptr<detail::ObjectState>& detail::state_of(const Object&);
    friend Object detail::object_from_state(std::shared_ptr<detail::ObjectState>);
    explicit Object(std::shared_ptr<detail::ObjectState> state) : state_(std::move(state)) {}
    detail::Carried invoke_as(detail::CallArguments arguments, detail::Keep keep) const {
        return detail::object_invoke(state(), nullptr, std::move(arguments), keep);
    }
    detail::Carried call_as(std::string_view method, detail::CallArguments arguments,
                            detail::Keep keep) const {
        std::string name(method);
        return detail::object_invoke(state(), &name, std::move(arguments), keep);
    }
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

template <class O>
O detail::object_parameter(const Carried& args, std::size_t index) {
    const Value& argument = args.value[index];
    std::int64_t object = placeholder_index(argument, args.objects.size());
    if (object < 0)
        throw std::invalid_argument("argument " + std::to_string(index + 1) + " (" +
                                    std::string(argument.type_name()) +
                                    ") is a value, not an object");
    return object_from_state(args.objects[static_cast<std::size_t>(object)]);
}

template <class... A>
Result Object::call_result(std::string_view method, A&&... arguments) const {
    return detail::result_of(call_as(method, detail::make_arguments(std::forward<A>(arguments)...),
                                     detail::Keep::Objects));
}

}  // namespace bond
