// Standard base64 (RFC 4648, with padding) for the bytes encoding of the wire protocol.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bond::detail {
std::string base64_encode(std::string_view bytes);
inline std::string base64_encode(const std::vector<std::uint8_t>& bytes) {
    return base64_encode(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
// nullopt when `text` is not valid padded base64.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);
}  // namespace bond::detail
