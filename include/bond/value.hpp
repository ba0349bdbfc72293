// The one value type of bond (nlohmann::json) and Ref, an unevaluated expression of one bond.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace bond {

// Every value crossing a bond. Bytes are nlohmann::json::binary_t (Value::binary(...)).
using Value = nlohmann::json;

// Code of the remote language, evaluated remotely where it is used: Bond::eval, Bond::eval_block,
// or an argument of Bond::call (python-bond's XCALL). Only valid on the bond that made it.
class Ref {
  public:
    const std::string& code() const noexcept { return code_; }
    std::uint64_t owner() const noexcept { return owner_; }

  private:
    friend class Bond;
    Ref(std::string code, std::uint64_t owner) : code_(std::move(code)), owner_(owner) {}
    std::string code_;
    std::uint64_t owner_;
};

}  // namespace bond
