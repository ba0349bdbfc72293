// The JSON-RPC 2.0 codec of the wire protocol (docs/protocol.md): one message per line, validated
// on the way in, with bytes (nlohmann binary_t) carried as {"$bytes": "<base64>"}. It knows the
// shape of messages, not what they mean; Session gives them meaning. The error codes are in
// error_codes.hpp.
#pragma once

#include <bond/value.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bond::detail {

// A line that is not a valid message.
struct ProtocolError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A value that cannot be encoded (invalid UTF-8 in a string).
struct EncodingError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Which ids a peer may use. Bond's drivers use integers; a client of the daemon may use any id
// JSON-RPC 2.0 allows (a string, a number, null), which its reply must echo as it was.
enum class IdRule { Integer, Any };

// Not bugprone-exception-escape: clang-tidy 14 says so of every class with a nlohmann::json
// member, whose destructor and moves are noexcept.
struct Message {  // NOLINT(bugprone-exception-escape)
    enum class Kind { Request, Notification, Result, Error };
    Kind kind = Kind::Notification;
    std::int64_t id = 0;  // Request, Result, Error: the id when it is an integer, else 0
    Value raw_id;         // the id as the peer sent it (IdRule::Any), for the reply
    std::string method;   // Request, Notification
    Value params;         // Request, Notification: an object (or null)
    Value result;         // Result
    int error_code = 0;   // Error
    std::string error_message;
    Value error_data;
    bool holds_tags = false;  // an object in it has a key $obj, $yours or $code (parse_json)
};

// ProtocolError for a line that is not JSON ("not valid JSON: ...") or not a message.
Message decode_message(std::string_view line);
// The same, reading `line` in place (parse_json_in_place): what the line holds afterwards is
// undefined, but after a ProtocolError its first kLineStartKept bytes are as they came (more than
// an excerpt of it shows).
constexpr std::size_t kLineStartKept = 512;
Message decode_message_in_place(std::string& line);
// A message read by parse_json (json_parser.hpp), its bytes already decoded; ProtocolError when
// it is not one.
Message decode_message(Value json, IdRule rule);

// How many maps of a value have the exact shape of a tag of docs/protocol.md (Values) that only
// the host may place: code, and objects ($obj, $yours).
struct TagCount {
    std::size_t code = 0;
    std::size_t objects = 0;
};
// The tag shapes, as drivers read them.
bool is_code_tag(const Value& value);
bool is_object_tag(const Value& value);  // {"$obj": n} or {"$obj": n, "type": "..."}
bool is_yours_tag(const Value& value);   // {"$yours": n}

// Each returns one line, ending in '\n'; EncodingError when a value cannot be encoded. `tags`,
// when given, counts the tags the value holds.
std::string encode_request(std::int64_t id, std::string_view method, const Value& params,
                           TagCount* tags = nullptr);
// A request whose id is a string (bondd's requests to its clients: "bondd:1").
std::string encode_request(std::string_view id, std::string_view method, const Value& params);
std::string encode_notification(std::string_view method, const Value& params);
// `id` is the request's id as it came (an integer, or with IdRule::Any a string or null).
std::string encode_result(const Value& id, const Value& result, TagCount* tags = nullptr);
std::string encode_error(const Value& id, int code, std::string_view message,
                         const Value& data = nullptr);

// The protocol's JSON form of a value (bytes as {"$bytes": ...}); parse_json reads it back.
Value encode_bytes(const Value& value);

}  // namespace bond::detail
