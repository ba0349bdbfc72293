#include "base64.hpp"

#include <array>

namespace bond::detail {
namespace {
constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> decoding_table = [] {
    std::array<std::int8_t, 256> table{};
    table.fill(-1);
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return table;
}();
}  // namespace

std::string base64_encode(std::string_view text_bytes) {
    auto bytes = [&](std::size_t i) -> std::uint32_t {
        return static_cast<unsigned char>(text_bytes[i]);
    };
    std::size_t size = text_bytes.size();
    std::string text;
    text.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < size; i += 3) {
        std::uint32_t group = bytes(i) << 16 | bytes(i + 1) << 8 | bytes(i + 2);
        for (int shift : {18, 12, 6, 0}) text += alphabet[(group >> shift) & 63];
    }
    if (std::size_t rest = size - i) {
        std::uint32_t group = bytes(i) << 16 | (rest == 2 ? bytes(i + 1) << 8 : 0);
        text += alphabet[(group >> 18) & 63];
        text += alphabet[(group >> 12) & 63];
        text += rest == 2 ? alphabet[(group >> 6) & 63] : '=';
        text += '=';
    }
    return text;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::size_t padding = 0;
        std::uint32_t group = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = text[i + j];
            bool last_group = i + 4 == text.size();
            if (c == '=' && last_group && j >= 2 && (j == 3 || text[i + 3] == '=')) {
                ++padding;
                group <<= 6;
                continue;
            }
            std::int8_t sextet = decoding_table[static_cast<unsigned char>(c)];
            if (sextet < 0 || padding > 0) return std::nullopt;
            group = group << 6 | static_cast<std::uint32_t>(sextet);
        }
        bytes.push_back(static_cast<std::uint8_t>(group >> 16));
        if (padding < 2) bytes.push_back(static_cast<std::uint8_t>(group >> 8));
        if (padding < 1) bytes.push_back(static_cast<std::uint8_t>(group));
    }
    return bytes;
}

}  // namespace bond::detail
