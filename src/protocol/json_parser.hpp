// Reads one JSON text into a Value the way the protocol reads every line it receives: objects
// {"$bytes": "<base64>"} become bytes as they close, strings can be decoded within the line
// itself (a 16 MiB argument is not held more than twice), and nesting deeper than a bound is an
// error rather than a deep structure for later recursive code to overflow the stack on.
#pragma once

#include <bond/value.hpp>

#include <cstddef>
#include <string_view>

namespace bond::detail {

// Deeper JSON than this is refused: far beyond any real value, and shallow enough for the
// recursive code that encodes a value (nlohmann's dump) to stay within a thread's stack.
constexpr std::size_t kMaxJsonDepth = 10000;

// ProtocolError ("not valid JSON: ...", "JSON nested more than N levels deep") when `text` is
// not one JSON value. `tag_keys`, when given, is set when an object has a key $obj, $yours or
// $code: only then does a Session look through the value for objects (docs/protocol.md, Values).
Value parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth,
                 bool* tag_keys = nullptr);

// The same, decoding strings within `text` itself, which holds something undefined afterwards:
// a 16 MiB string is then held twice at most (the text, the Value), not four times.
Value parse_json_in_place(std::string& text, std::size_t max_depth = kMaxJsonDepth,
                          bool* tag_keys = nullptr);

}  // namespace bond::detail
