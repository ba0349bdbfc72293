#include "named_params.hpp"

#include "rpc_error.hpp"

#include <algorithm>

namespace bond::daemon {

NamedParams::NamedParams(const Value& params, std::initializer_list<std::string_view> known)
    : params_(params) {
    if (params.is_null()) return;
    if (!params.is_object())
        throw invalid_params("the params must be an object of named parameters");
    for (const auto& entry : params.items()) {
        if (std::find(known.begin(), known.end(), entry.key()) == known.end()) {
            std::string names;
            for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
            throw invalid_params(
                "the parameter '" + entry.key() + "' is unknown" +
                (names.empty() ? " (this method takes none)" : " (known: " + names + ")"));
        }
    }
}

const Value* NamedParams::find(std::string_view name) const {
    if (!params_.is_object()) return nullptr;
    auto found = params_.find(name);
    return found == params_.end() ? nullptr : &*found;
}

void NamedParams::wrong_type(std::string_view name, std::string_view expected) const {
    throw invalid_params("parameter '" + std::string(name) + "' must be " + std::string(expected) +
                         ", not " + find(name)->type_name());
}

void NamedParams::missing(std::string_view name) {
    throw invalid_params("the parameter '" + std::string(name) + "' is missing");
}

std::string NamedParams::string(std::string_view name) const {
    auto value = optional_string(name);
    if (!value) missing(name);
    return *value;
}

Value NamedParams::value(std::string_view name) const {
    auto found = optional_value(name);
    if (!found) missing(name);
    return *found;
}

Value NamedParams::array(std::string_view name) const {
    auto found = optional_array(name);
    if (!found) missing(name);
    return *found;
}

std::optional<std::string> NamedParams::optional_string(std::string_view name) const {
    const Value* value = find(name);
    if (!value) return std::nullopt;
    if (!value->is_string()) wrong_type(name, "a string");
    return value->get<std::string>();
}

std::optional<bool> NamedParams::optional_bool(std::string_view name) const {
    const Value* value = find(name);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) wrong_type(name, "a boolean");
    return value->get<bool>();
}

std::optional<std::int64_t> NamedParams::optional_count(std::string_view name) const {
    const Value* value = find(name);
    if (!value) return std::nullopt;
    if (value->is_number_unsigned()) {
        if (value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            wrong_type(name, "an integer of at most 2^63-1");
        return static_cast<std::int64_t>(value->get<std::uint64_t>());
    }
    if (!value->is_number_integer() || value->get<std::int64_t>() < 0)
        wrong_type(name, "an integer >= 0");
    return value->get<std::int64_t>();
}

std::optional<Value> NamedParams::optional_typed(std::string_view name,
                                                 bool (Value::*is_type)() const noexcept,
                                                 std::string_view expected) const {
    const Value* value = find(name);
    if (!value) return std::nullopt;
    if (!(value->*is_type)()) wrong_type(name, expected);
    return *value;
}

std::optional<Value> NamedParams::optional_value(std::string_view name) const {
    const Value* value = find(name);
    return value ? std::optional<Value>(*value) : std::nullopt;
}

std::optional<Value> NamedParams::optional_array(std::string_view name) const {
    return optional_typed(name, &Value::is_array, "an array");
}

std::optional<Value> NamedParams::optional_object(std::string_view name) const {
    return optional_typed(name, &Value::is_object, "an object");
}

}  // namespace bond::daemon
