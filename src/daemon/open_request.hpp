// The parameters of `open` as bond::Options, checked: {lang, command?, args?, cwd?, env?,
// def_args?, trans_except?, timeout_ms?, start_timeout_ms?, limits?, sandbox?, name?}; and
// `limits`, which eval, eval_block and call take too.
#pragma once

#include <bond/options.hpp>
#include <bond/value.hpp>

#include <optional>
#include <string>

namespace bond::daemon {

struct OpenRequest {
    std::string lang;
    bond::Options options;  // on_output is the daemon's (HeldBond)
    std::optional<std::string> name;
    // Nothing was asked for that an interpreter started in advance with the defaults lacks: one
    // from the warm pool will do.
    bool fits_pool = true;
};

// Throws RpcFailure (-32602) for a missing, unknown or mistyped parameter.
OpenRequest parse_open_request(const Value& params);
// {wall_ms?, cpu_ms?, memory_bytes?, output_bytes?, grace_ms?} as bond::Limits; RpcFailure
// (-32602) when it is not.
bond::Limits parse_limits(const Value& limits);

}  // namespace bond::daemon
