// The parameters of `open` as bond::Options, checked: {lang, command?, args?, cwd?, env?,
// def_args?, trans_except?, timeout_ms?, start_timeout_ms?, name?}.
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

}  // namespace bond::daemon
