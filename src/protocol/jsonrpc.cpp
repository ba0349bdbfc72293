#include "jsonrpc.hpp"

#include "base64.hpp"
#include "json_parser.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bond::detail {
namespace {

constexpr std::string_view kBytesKey = "$bytes";

// A non-negative integer: parsed JSON holds one as unsigned, a Value made in C++ as signed.
bool unsigned_key(const Value& map, const char* key) {
    auto found = map.find(key);
    return found != map.end() && found->is_number_integer() &&
           (found->is_number_unsigned() || found->get<std::int64_t>() >= 0);
}

// True when `value` holds bytes (which need the $bytes form); counts tags into `tags` and adds to
// `size` about the length of its JSON (exact for strings without escapes, whose length is what
// matters). Throws EncodingError for what JSON cannot carry at all: nlohmann would write NaN and
// infinities as null.
bool needs_encoding(const Value& value, TagCount* tags, std::size_t& size) {
    switch (value.type()) {
        case Value::value_t::binary:
            size += value.get_binary().size() / 3 * 4 + 16;
            return true;
        case Value::value_t::string:
            size += value.get_ref<const std::string&>().size() + 3;
            return false;
        case Value::value_t::number_float:
            if (!std::isfinite(value.get<double>()))
                throw EncodingError("NaN and infinities cannot be sent");
            size += 25;
            return false;
        case Value::value_t::object: {
            if (tags && value.size() <= 2) {
                if (is_code_tag(value)) ++tags->code;
                if (is_object_tag(value) || is_yours_tag(value)) ++tags->objects;
            }
            bool found = false;
            for (auto member = value.begin(); member != value.end(); ++member) {
                size += member.key().size() + 4;
                found = needs_encoding(member.value(), tags, size) || found;
            }
            return found;
        }
        case Value::value_t::array: {
            bool found = false;
            for (const auto& element : value) found = needs_encoding(element, tags, size) || found;
            return found;
        }
        default:
            size += 21;
            return false;
    }
}

bool needs_encoding(const Value& value, TagCount* tags) {
    std::size_t size = 0;
    return needs_encoding(value, tags, size);
}

Value replace_binary(const Value& value) {
    switch (value.type()) {
        case Value::value_t::binary:
            return Value{{kBytesKey, base64_encode(value.get_binary())}};
        case Value::value_t::array: {
            Value out = Value::array();
            for (const auto& element : value) out.push_back(replace_binary(element));
            return out;
        }
        case Value::value_t::object: {
            Value out = Value::object();
            for (auto it = value.begin(); it != value.end(); ++it)
                out[it.key()] = replace_binary(it.value());
            return out;
        }
        default:
            return value;
    }
}

// Appends `value`'s JSON to `line`, which is first given room for all of it: a line of a 16 MiB
// string is then allocated once instead of grown by doubling, each step holding the old and the
// new copy. (nlohmann's serializer is what Value::dump() writes with; it appends to a
// string it is given.)
void append_json(std::string& line, const Value& value, TagCount* tags = nullptr) {
    try {
        std::size_t size = 0;
        bool has_bytes = needs_encoding(value, tags, size);
        line.reserve(line.size() + size + 64);  // the rest of the line, `}\n` and a little more
        auto write = [&line](const Value& json) {
            nlohmann::detail::serializer<Value>(
                nlohmann::detail::output_adapter<char, std::string>(line), ' ')
                .dump(json, false, false, 0);
        };
        if (has_bytes)
            write(replace_binary(value));
        else
            write(value);
    } catch (const nlohmann::json::type_error& error) {
        throw EncodingError(error.what());
    }
}

std::string dump(const Value& value, TagCount* tags = nullptr) {
    std::string text;
    append_json(text, value, tags);
    return text;
}

void decode_id(const Value& json, IdRule rule, Message& message) {
    auto id = json.find("id");
    if (id != json.end() && id->is_number_integer()) {
        message.id = id->get<std::int64_t>();
        message.raw_id = *id;
        return;
    }
    if (rule == IdRule::Any && id != json.end() && (id->is_string() || id->is_null())) {
        message.raw_id = *id;
        return;
    }
    throw ProtocolError(rule == IdRule::Any
                            ? "the message has no \"id\" that is a string, an integer or null"
                            : "the message has no integer \"id\"");
}

std::string request_line(std::string_view id, std::string_view method, const Value& params,
                         TagCount* tags) {
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":";
    line += id;
    line += ",\"method\":";
    append_json(line, Value(method));
    line += ",\"params\":";
    append_json(line, params, tags);
    line += "}\n";
    return line;
}

}  // namespace

Value encode_bytes(const Value& value) {
    return needs_encoding(value, nullptr) ? replace_binary(value) : value;
}

bool is_code_tag(const Value& value) {
    if (!value.is_object() || value.size() != 1) return false;
    auto code = value.find("$code");
    return code != value.end() && code->is_string();
}

bool is_object_tag(const Value& value) {
    if (!value.is_object() || !unsigned_key(value, "$obj")) return false;
    if (value.size() == 1) return true;
    auto type = value.find("type");
    return value.size() == 2 && type != value.end() && type->is_string();
}

bool is_yours_tag(const Value& value) {
    return value.is_object() && value.size() == 1 && unsigned_key(value, "$yours");
}

Message decode_message(std::string_view line) {
    bool tag_keys = false;
    Message message = decode_message(parse_json(line, kMaxJsonDepth, &tag_keys), IdRule::Integer);
    message.holds_tags = tag_keys;
    return message;
}

Message decode_message_in_place(std::string& line) {
    // The message of an error quotes the line's start (Peer's excerpt): it is put back as it came.
    // The start alone: the reader writes no further than it has read.
    char head[kLineStartKept];
    std::size_t kept = std::min(line.size(), kLineStartKept);
    std::memcpy(head, line.data(), kept);
    try {
        bool tag_keys = false;
        Message message =
            decode_message(parse_json_in_place(line, kMaxJsonDepth, &tag_keys), IdRule::Integer);
        message.holds_tags = tag_keys;
        return message;
    } catch (const ProtocolError&) {
        std::memcpy(line.data(), head, kept);
        throw;
    }
}

Message decode_message(Value json, IdRule rule) {
    if (!json.is_object()) throw ProtocolError("a message must be a JSON object");
    auto version = json.find("jsonrpc");
    if (version == json.end() || *version != "2.0")
        throw ProtocolError("a message must have \"jsonrpc\": \"2.0\"");

    Message message;
    if (auto method = json.find("method"); method != json.end()) {
        if (!method->is_string()) throw ProtocolError("\"method\" must be a string");
        message.method = method->get<std::string>();
        if (auto params = json.find("params"); params != json.end()) {
            if (!params->is_object() && !params->is_null())
                throw ProtocolError("\"params\" must be an object");
            message.params = std::move(*params);
        }
        if (json.contains("id")) {
            message.kind = Message::Kind::Request;
            decode_id(json, rule, message);
        }
        return message;
    }

    decode_id(json, rule, message);
    auto result = json.find("result");
    auto error = json.find("error");
    if ((result == json.end()) == (error == json.end()))
        throw ProtocolError("a reply must have exactly one of \"result\" and \"error\"");
    if (result != json.end()) {
        message.kind = Message::Kind::Result;
        message.result = std::move(*result);
        return message;
    }
    if (!error->is_object()) throw ProtocolError("\"error\" must be an object");
    auto code = error->find("code");
    auto text = error->find("message");
    if (code == error->end() || !code->is_number_integer() || text == error->end() ||
        !text->is_string())
        throw ProtocolError("\"error\" must have an integer \"code\" and a string \"message\"");
    message.kind = Message::Kind::Error;
    message.error_code = code->get<int>();
    message.error_message = text->get<std::string>();
    if (auto data = error->find("data"); data != error->end()) {
        message.error_data = std::move(*data);
    }
    return message;
}

std::string encode_request(std::int64_t id, std::string_view method, const Value& params,
                           TagCount* tags) {
    return request_line(std::to_string(id), method, params, tags);
}

std::string encode_request(std::string_view id, std::string_view method, const Value& params) {
    return request_line(Value(id).dump(), method, params, nullptr);
}

std::string encode_notification(std::string_view method, const Value& params) {
    std::string line = "{\"jsonrpc\":\"2.0\",\"method\":";
    append_json(line, Value(method));
    line += ",\"params\":";
    append_json(line, params);
    line += "}\n";
    return line;
}

std::string encode_result(const Value& id, const Value& result, TagCount* tags) {
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":";
    append_json(line, id);
    line += ",\"result\":";
    append_json(line, result, tags);
    line += "}\n";
    return line;
}

std::string encode_error(const Value& id, int code, std::string_view message, const Value& data) {
    // The message is host text (what() of an exception): bad UTF-8 in it must not break a reply.
    Value error = {{"code", code}, {"message", std::string(message)}};
    if (!data.is_null()) error["data"] = encode_bytes(data);
    std::string line = "{\"jsonrpc\":\"2.0\",\"id\":" + dump(id) +
                       ",\"error\":" + error.dump(-1, ' ', false, Value::error_handler_t::replace);
    line += "}\n";
    return line;
}

}  // namespace bond::detail
