// The named parameters of one request, checked as they are read: a missing, unknown or mistyped
// parameter is answered with -32602 (invalid params) naming it.
#pragma once

#include <bond/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace bond::daemon {

class NamedParams {
  public:
    // `params` must be an object (or absent: null) whose names are all in `known`.
    NamedParams(const Value& params, std::initializer_list<std::string_view> known);

    // A parameter that must be there.
    std::string string(std::string_view name) const;
    Value value(std::string_view name) const;  // of any type
    Value array(std::string_view name) const;
    // One that may be absent.
    std::optional<std::string> optional_string(std::string_view name) const;
    std::optional<bool> optional_bool(std::string_view name) const;
    std::optional<std::int64_t> optional_count(std::string_view name) const;  // an integer >= 0
    std::optional<Value> optional_array(std::string_view name) const;
    std::optional<Value> optional_value(std::string_view name) const;  // of any type
    std::optional<Value> optional_object(std::string_view name) const;

  private:
    const Value* find(std::string_view name) const;
    std::optional<Value> optional_typed(std::string_view name,
                                        bool (Value::*is_type)() const noexcept,
                                        std::string_view expected) const;
    [[noreturn]] void wrong_type(std::string_view name, std::string_view expected) const;
    [[noreturn]] static void missing(std::string_view name);
    const Value& params_;
};

}  // namespace bond::daemon
