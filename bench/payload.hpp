// The strings the payload figures send: printable ASCII that JSON carries without escapes, so
// that every side takes its fast path and the figure is the cost of moving the bytes.
#pragma once

#include <cstddef>
#include <string>

namespace bench {

inline std::string make_payload(std::size_t bytes) {
    static const std::string pattern =
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string text;
    text.reserve(bytes);
    while (text.size() < bytes)
        text.append(pattern, 0, std::min(pattern.size(), bytes - text.size()));
    return text;
}

}  // namespace bench
