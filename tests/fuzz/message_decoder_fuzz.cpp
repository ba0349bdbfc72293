// Fuzz target: the host's reading of one protocol line (parse_json, decode_message). Whatever
// the line, decoding either gives a message or throws ProtocolError; a message encodes again,
// and that encoding decodes to the same message.
#include "protocol/json_parser.hpp"
#include "protocol/jsonrpc.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace bond::detail;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

// The message's own line again, as the host would write it.
std::string encode(const Message& message) {
    switch (message.kind) {
        case Message::Kind::Request:
            return encode_request(message.id, message.method, message.params);
        case Message::Kind::Notification:
            return encode_notification(message.method, message.params);
        case Message::Kind::Result:
            return encode_result(message.raw_id, message.result);
        case Message::Kind::Error:
            return encode_error(message.raw_id, message.error_code, message.error_message,
                                message.error_data);
    }
    return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view line(reinterpret_cast<const char*>(data), size);
    try {
        parse_json(line, 64);
    } catch (const ProtocolError&) {
    }
    Message message;
    try {
        message = decode_message(line);
    } catch (const ProtocolError&) {
        return 0;
    }
    std::string again;
    try {
        again = encode(message);
    } catch (const EncodingError&) {
        return 0;  // a string the peer sent escaped that is not UTF-8 (a lone surrogate)
    }
    require(!again.empty() && again.back() == '\n');
    Message decoded = decode_message(std::string_view(again).substr(0, again.size() - 1));
    require(decoded.kind == message.kind);
    require(decoded.id == message.id);
    require(decoded.method == message.method);
    require(decoded.params == message.params || message.params.is_null());
    require(decoded.result == message.result);
    require(decoded.error_code == message.error_code);
    return 0;
}
