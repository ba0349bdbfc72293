// Bonds for language-specific tests: a timeout that only guards against a hang, output kept quiet
// unless the test collects it, and the message of a remote error as a plain string.
#pragma once

#include <bond/bond.hpp>

#include <chrono>
#include <string>
#include <string_view>

inline bond::Bond make_quiet_bond(std::string_view lang, bond::Options options = {}) {
    if (options.timeout == bond::Options{}.timeout) options.timeout = std::chrono::seconds(120);
    if (!options.on_output) options.on_output = [](bond::Channel, std::string_view) {};
    return bond::make_bond(lang, std::move(options));
}

// The RemoteException message `code` raises in eval_block, or "no RemoteException".
inline std::string remote_error(bond::Bond& remote, const std::string& code) {
    try {
        remote.eval_block(code);
    } catch (const bond::RemoteException& error) {
        return error.message();
    }
    return "no RemoteException";
}
