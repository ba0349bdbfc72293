// How C++ arguments become the arguments of one remote call, and how exported C++ callables are
// adapted to the single shape the host dispatches to. Conversion happens here, at one edge, with
// nlohmann's to_json/from_json, so a user type works by defining those two functions.
#pragma once

#include <bond/value.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bond {
class BondException;
class Object;

// What the host runs when the remote code calls an exported name: the call's arguments as an array
// in, the result out. A thrown exception reaches the remote code as a native one carrying what().
using ExportedFunction = std::function<Value(const Value& args)>;

namespace detail {

// One hold on a value in an interpreter's table (object.hpp).
struct ObjectState;
const std::shared_ptr<ObjectState>& state_of(const Object& object);
Object object_from_state(std::shared_ptr<ObjectState> state);

// A value with the Objects it carries: each stands in `value` as {"$handle": k}, k its index in
// `objects`. How values with objects travel inside the host, between bonds and C++ functions.
struct Carried {
    Value value;
    std::vector<std::shared_ptr<ObjectState>> objects;
};

// What the host runs for an exported name, objects included (adapt_export makes one).
using HostFunction = std::function<Carried(Carried& args)>;

// The arguments of one call: converted values, in which a Ref stands as {"$code": "..."} and an
// Object as {"$handle": k}; the Objects; the bonds the Refs belong to; a conversion error to raise.
struct CallArguments {
    Value values = Value::array();
    std::vector<std::shared_ptr<ObjectState>> objects;
    std::vector<std::uint64_t> ref_owners;
    std::optional<std::string> conversion_error;
};

// Where Object k of a Carried or CallArguments stands in its value.
inline Value object_placeholder(std::size_t index) {
    return Value{{"$handle", index}};
}
// The index of the Object that `value` stands for, or -1 when it is not a placeholder.
inline std::int64_t placeholder_index(const Value& value, std::size_t object_count) {
    if (!value.is_object() || value.size() != 1) return -1;
    auto found = value.find("$handle");
    if (found == value.end() || !found->is_number_unsigned()) return -1;
    auto index = found->get<std::uint64_t>();
    return index < object_count ? static_cast<std::int64_t>(index) : -1;
}

// Compile-time checks of the types that cross a bond, instead of nlohmann's pages of failed
// overloads. Where a check fails, its struct is instantiated for its message, which names the
// type (the compiler prints "In instantiation of bond::detail::needs_to_json<Point>") and says
// what to define; the concept lets the caller skip the code that would fail again.
template <class T>
concept to_json_convertible = std::is_constructible_v<Value, const T&>;
template <class T>
concept from_json_convertible = requires(const Value& value) {
    value.template get<T>();
};
// What a parameter of an exported function and the result of a typed call are converted to.
template <class T>
concept receivable = !std::is_void_v<T> && (std::is_same_v<std::remove_cvref_t<T>, Object> ||
                                            from_json_convertible<std::remove_cvref_t<T>>);
// What an exported function returns: also void.
template <class T>
concept returnable = std::is_void_v<T> || std::is_same_v<std::remove_cvref_t<T>, Object> ||
    to_json_convertible<std::remove_cvref_t<T>>;

template <class T>
struct needs_to_json {
    static_assert(to_json_convertible<T>,
                  "bond sends this type T (the one in needs_to_json<T> above) to an interpreter, "
                  "which needs nlohmann's `void to_json(bond::Value&, const T&)` declared in T's "
                  "namespace");
};
template <class T>
struct needs_from_json {
    static_assert(from_json_convertible<T>,
                  "bond converts a value of an interpreter to this type T (the one in "
                  "needs_from_json<T> above), which needs nlohmann's `void from_json(const "
                  "bond::Value&, T&)` declared in T's namespace");
};
// Types whose instantiation reports a type that fails its check; std::true_type for the others.
template <class T>
using sent_check = std::conditional_t<std::is_same_v<std::remove_cvref_t<T>, Object> ||
                                          to_json_convertible<std::remove_cvref_t<T>>,
                                      std::true_type, needs_to_json<std::remove_cvref_t<T>>>;
template <class T>
using received_check =
    std::conditional_t<receivable<T>, std::true_type, needs_from_json<std::remove_cvref_t<T>>>;
template <class T>
using returned_check =
    std::conditional_t<returnable<T>, std::true_type, needs_to_json<std::remove_cvref_t<T>>>;

template <class T>
void append_argument(CallArguments& out, T&& argument) {
    using Plain = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<Plain, Ref>) {
        out.ref_owners.push_back(argument.owner());
        out.values.push_back(Value{{"$code", argument.code()}});
    } else if constexpr (std::is_same_v<Plain, Object>) {
        if (!state_of(argument)) throw std::invalid_argument("a moved-from bond::Object");
        out.values.push_back(object_placeholder(out.objects.size()));
        out.objects.push_back(state_of(argument));
    } else {
        [[maybe_unused]] sent_check<Plain> check;
        if constexpr (to_json_convertible<Plain>)
            out.values.push_back(Value(std::forward<T>(argument)));
    }
}

// Converts every argument; a failing to_json is recorded and raised by the bond (which knows its
// language) as a local SerializationException before anything is sent.
template <class... A>
CallArguments make_arguments(A&&... arguments) {
    CallArguments out;
    try {
        (append_argument(out, std::forward<A>(arguments)), ...);
    } catch (const std::exception& error) {
        out.conversion_error = error.what();
    }
    return out;
}

// The parameter and result types of a callable with one non-template operator() (or a function).
// Empty (no `parameters`) for callables whose signature cannot be deduced, e.g. generic lambdas.
template <class F, class = void>
struct callable_traits {};
template <class F>
struct callable_traits<F, std::void_t<decltype(&F::operator())>>
    : callable_traits<decltype(&F::operator())> {};
template <class R, class... A>
struct callable_traits<R (*)(A...)> {
    using result = R;
    using parameters = std::tuple<A...>;
};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R (*)(A...)> {};
template <class R, class... A>
struct callable_traits<R(A...)> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...)> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) noexcept> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R (*)(A...)> {};

template <class F, class = void>
struct has_callable_traits : std::false_type {};
template <class F>
struct has_callable_traits<F, std::void_t<typename callable_traits<F>::parameters>>
    : std::true_type {};

// True for callables that take the raw argument array: exactly one parameter of type
// const Value&. Every other callable has typed parameters, converted one by one.
template <class F>
constexpr bool takes_argument_array() {
    if constexpr (has_callable_traits<F>::value) {
        using parameters = typename callable_traits<F>::parameters;
        if constexpr (std::tuple_size_v<parameters> == 1)
            return std::is_same_v<std::tuple_element_t<0, parameters>, const Value&>;
        else
            return false;
    } else {
        return false;
    }
}

// A C++ function's result as a Carried value: an Object travels beside its placeholder.
template <class Result, class Invoke>
Carried invoke_to_carried(Invoke&& invoke) {
    if constexpr (std::is_void_v<Result>) {
        invoke();
        return {nullptr, {}};
    } else if constexpr (std::is_same_v<std::remove_cvref_t<Result>, Object>) {
        return {object_placeholder(0), {state_of(invoke())}};
    } else {
        return {Value(invoke()), {}};
    }
}

// Argument `index` as the Object it stands for (object.hpp: Object is incomplete here, and a
// template parameter keeps clang from needing it before then).
template <class O>
O object_parameter(const Carried& args, std::size_t index);

template <class Parameter>
std::remove_cvref_t<Parameter> convert_parameter(const Carried& args, std::size_t index) {
    using Plain = std::remove_cvref_t<Parameter>;
    const Value& argument = args.value[index];
    if constexpr (std::is_same_v<Plain, Object>) {
        return object_parameter<Plain>(args, index);
    } else {
        try {
            return argument.template get<Plain>();
        } catch (const std::exception& error) {  // nlohmann's, or a user from_json's
            throw std::invalid_argument("argument " + std::to_string(index + 1) + " (" +
                                        std::string(argument.type_name()) +
                                        ") has the wrong type: " + error.what());
        }
    }
}

// The checks of an exported function's parameter and result types: each is reported.
template <class Parameters, class Result>
struct export_checks;
template <class... P, class Result>
struct export_checks<std::tuple<P...>, Result> {
    static constexpr bool convertible = (receivable<P> && ...) && returnable<Result>;
    using type = std::tuple<received_check<P>..., returned_check<Result>>;
};

// adapt_export for a callable whose parameter and result types are known.
template <class F>
HostFunction adapt_typed_export(F&& function) {
    using Callable = std::decay_t<F>;
    using Traits = callable_traits<Callable>;
    using Checks = export_checks<typename Traits::parameters, typename Traits::result>;
    [[maybe_unused]] typename Checks::type check;
    constexpr bool convertible = Checks::convertible;
    auto held = std::make_shared<Callable>(std::forward<F>(function));
    if constexpr (!convertible) {
        return {};  // needs_to_json or needs_from_json said why
    } else if constexpr (takes_argument_array<Callable>()) {
        // The placeholders of the arguments' objects it returns stand for those objects.
        return [held](Carried& args) -> Carried {
            Carried result =
                invoke_to_carried<typename Traits::result>([&] { return (*held)(args.value); });
            if (result.objects.empty()) result.objects = std::move(args.objects);
            return result;
        };
    } else {
        using Parameters = typename Traits::parameters;
        constexpr std::size_t arity = std::tuple_size_v<Parameters>;
        return [held](Carried& args) -> Carried {
            if (args.value.size() != arity)
                throw std::invalid_argument("expected " + std::to_string(arity) + " argument" +
                                            (arity == 1 ? "" : "s") + ", got " +
                                            std::to_string(args.value.size()));
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return invoke_to_carried<typename Traits::result>([&] {
                    return (*held)(
                        convert_parameter<std::tuple_element_t<I, Parameters>>(args, I)...);
                });
            }
            (std::make_index_sequence<arity>{});
        };
    }
}

// Wraps any exportable callable as a HostFunction: a typed callable gets its arguments converted
// with from_json (or as Objects) after an arity check; a raw one gets the array as it is. The
// callable is held through a shared_ptr, so move-only callables can be exported too.
template <class F>
HostFunction adapt_export(F&& function) {
    using Callable = std::decay_t<F>;  // a function name decays to a function pointer
    static_assert(has_callable_traits<Callable>::value,
                  "export_function needs a function, or a callable with one non-template "
                  "operator() (not a generic lambda or a bind expression): its parameter types "
                  "say how to convert the arguments");
    if constexpr (!has_callable_traits<Callable>::value) {
        return {};  // the assertion above said why
    } else {
        return adapt_typed_export(std::forward<F>(function));
    }
}

}  // namespace detail
}  // namespace bond
