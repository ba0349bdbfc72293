// How C++ arguments become the arguments of one remote call, and how exported C++ callables are
// adapted to the single shape the host dispatches to. Conversion happens here, at one edge, with
// nlohmann's to_json/from_json, so a user type works by defining those two functions.
#pragma once

#include <bond/value.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bond {
class BondException;

// What the host runs when the remote code calls an exported name: the call's arguments as an array
// in, the result out. A thrown exception reaches the remote code as a native one carrying what().
using ExportedFunction = std::function<Value(const Value& args)>;

namespace detail {

// The arguments of one call: converted values, the positions that hold code from a Ref (sent
// unevaluated), the bonds those Refs belong to, and a conversion error to raise, if any.
struct CallArguments {
    Value values = Value::array();
    std::vector<std::size_t> code_positions;
    std::vector<std::uint64_t> ref_owners;
    std::optional<std::string> conversion_error;
};

template <class T>
void append_argument(CallArguments& out, T&& argument) {
    if constexpr (std::is_same_v<std::remove_cvref_t<T>, Ref>) {
        out.code_positions.push_back(out.values.size());
        out.ref_owners.push_back(argument.owner());
        out.values.push_back(argument.code());
    } else {
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

template <class Result, class Invoke>
Value invoke_to_value(Invoke&& invoke) {
    if constexpr (std::is_void_v<Result>) {
        invoke();
        return nullptr;
    } else {
        return Value(invoke());
    }
}

template <class Parameter>
std::remove_cvref_t<Parameter> convert_parameter(const Value& args, std::size_t index) {
    try {
        return args[index].template get<std::remove_cvref_t<Parameter>>();
    } catch (const std::exception& error) {  // nlohmann's, or a user from_json's
        throw std::invalid_argument("argument " + std::to_string(index + 1) + " (" +
                                    std::string(args[index].type_name()) +
                                    ") has the wrong type: " + error.what());
    }
}

// Wraps any exportable callable as an ExportedFunction: a typed callable gets its arguments
// converted with from_json after an arity check; a raw one gets the array as it is. The callable
// is held through a shared_ptr, so move-only callables can be exported too.
template <class F>
ExportedFunction adapt_export(F&& function) {
    using Callable = std::decay_t<F>;  // a function name decays to a function pointer
    static_assert(has_callable_traits<Callable>::value,
                  "export_function needs a function, or a callable with one non-template "
                  "operator() (not a generic lambda or a bind expression): its parameter types "
                  "say how to convert the arguments");
    auto held = std::make_shared<Callable>(std::forward<F>(function));
    using Traits = callable_traits<Callable>;
    if constexpr (takes_argument_array<Callable>()) {
        return [held](const Value& args) -> Value {
            return invoke_to_value<typename Traits::result>([&] { return (*held)(args); });
        };
    } else {
        using Parameters = typename Traits::parameters;
        constexpr std::size_t arity = std::tuple_size_v<Parameters>;
        return [held](const Value& args) -> Value {
            if (args.size() != arity)
                throw std::invalid_argument("expected " + std::to_string(arity) + " argument" +
                                            (arity == 1 ? "" : "s") + ", got " +
                                            std::to_string(args.size()));
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return invoke_to_value<typename Traits::result>([&] {
                    return (*held)(
                        convert_parameter<std::tuple_element_t<I, Parameters>>(args, I)...);
                });
            }
            (std::make_index_sequence<arity>{});
        };
    }
}

}  // namespace detail
}  // namespace bond
