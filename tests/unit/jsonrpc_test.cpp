#include "protocol/jsonrpc.hpp"
#include "protocol/error_codes.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace bond::detail;
using bond::Value;

TEST_CASE("requests, results and errors are single JSON-RPC 2.0 lines") {
    std::string request = encode_request(7, "call", {{"name", "f"}, {"args", {1, "two"}}});
    CHECK(request.back() == '\n');
    CHECK(request.find('\n') == request.size() - 1);
    Value json = Value::parse(request);
    CHECK(json == Value{{"jsonrpc", "2.0"},
                        {"id", 7},
                        {"method", "call"},
                        {"params", {{"name", "f"}, {"args", {1, "two"}}}}});
    // bondd's requests to its clients have string ids.
    CHECK(Value::parse(encode_request("bondd:1", "invoke", {{"args", Value::array()}})) ==
          Value{{"jsonrpc", "2.0"},
                {"id", "bondd:1"},
                {"method", "invoke"},
                {"params", {{"args", Value::array()}}}});

    Message decoded = decode_message(encode_result(3, Value{{"a", {1, 2}}}));
    CHECK(decoded.kind == Message::Kind::Result);
    CHECK(decoded.id == 3);
    CHECK(decoded.result == Value{{"a", {1, 2}}});

    decoded = decode_message(encode_error(4, kRemoteException, "boom", {{"type", "E"}}));
    CHECK(decoded.kind == Message::Kind::Error);
    CHECK(decoded.error_code == kRemoteException);
    CHECK(decoded.error_message == "boom");
    CHECK(decoded.error_data == Value{{"type", "E"}});
}

TEST_CASE("strings with newlines, NUL and any Unicode stay on one line") {
    std::string text = std::string("a\nb\0c\r\xe2\x80\xa8 \xf0\x9f\x98\x80", 14);
    std::string line = encode_result(1, text);
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(decode_message(line).result == text);
}

TEST_CASE("bytes travel as {\"$bytes\": base64} and come back as binary") {
    Value value = {{"blob", Value::binary({0, 1, 255})}, {"list", {Value::binary({})}}};
    std::string line = encode_result(1, value);
    CHECK(line.find("{\"$bytes\":\"AAH/\"}") != std::string::npos);
    Message decoded = decode_message(line);
    CHECK(decoded.result["blob"].is_binary());
    CHECK(decoded.result["blob"] == Value::binary({0, 1, 255}));
    CHECK(decoded.result["list"][0].is_binary());
    // Only an object whose single key is "$bytes" is bytes.
    CHECK(decode_message(R"({"jsonrpc":"2.0","id":1,"result":{"$bytes":"AA==","x":1}})")
              .result.is_object());
    // Nor is one whose value is not base64: that is an ordinary object.
    CHECK(decode_message(R"({"jsonrpc":"2.0","id":1,"result":{"$bytes":"not base64!"}})").result ==
          Value{{"$bytes", "not base64!"}});
}

TEST_CASE("NaN and infinities cannot be encoded, at any depth") {
    CHECK_THROWS_AS(encode_request(1, "call", {{"args", {std::nan("")}}}), EncodingError);
    CHECK_THROWS_AS(encode_result(1, {{"deep", {1, {HUGE_VAL}}}}), EncodingError);
    CHECK_THROWS_AS(encode_result(1, -HUGE_VAL), EncodingError);
    CHECK(encode_result(1, 1e308) == "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1e+308}\n");
}

TEST_CASE("invalid UTF-8 cannot be encoded") {
    CHECK_THROWS_AS(encode_request(1, "eval", {{"code", "\xff\xfe"}}), EncodingError);
    // An error message (host text) is repaired rather than refused.
    CHECK_NOTHROW(decode_message(encode_error(1, kRemoteException, "bad \xff byte")));
}

TEST_CASE("requests and notifications from the remote are told apart") {
    Message request = decode_message(
        R"({"jsonrpc":"2.0","id":9,"method":"call","params":{"name":"twice","args":[21]}})");
    CHECK(request.kind == Message::Kind::Request);
    CHECK(request.id == 9);
    CHECK(request.params["args"] == Value{21});
    Message notification = decode_message(
        R"({"jsonrpc":"2.0","method":"output","params":{"channel":"stdout","data":"hi"}})");
    CHECK(notification.kind == Message::Kind::Notification);
    CHECK(notification.method == "output");
}

TEST_CASE("malformed messages are protocol errors") {
    for (const char* line : {
             "not json",
             "[1,2]",
             R"({"id":1,"result":1})",
             R"({"jsonrpc":"1.0","id":1,"result":1})",
             R"({"jsonrpc":"2.0","result":1})",
             R"({"jsonrpc":"2.0","id":"x","result":1})",
             R"({"jsonrpc":"2.0","id":1})",
             R"({"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}})",
             R"({"jsonrpc":"2.0","id":1,"error":"boom"})",
             R"({"jsonrpc":"2.0","id":1,"error":{"message":"m"}})",
             R"({"jsonrpc":"2.0","method":5})",
             R"({"jsonrpc":"2.0","method":"call","params":[1]})",
         }) {
        CAPTURE(line);
        CHECK_THROWS_AS(decode_message(line), ProtocolError);
    }
}

TEST_CASE("a line read in place reads as one read from a copy, and an error leaves its start") {
    std::string result_line = encode_result(7, Value{{"s", "a\tb\"c"}, {"n", {1, -2, 0.5}}});
    result_line.pop_back();  // the '\n'
    std::string in_place = result_line;
    CHECK(decode_message_in_place(in_place).result == decode_message(result_line).result);

    // Valid JSON with escaped strings (decoded within the line) that is not a message, and JSON
    // that breaks after its first strings: the error's excerpt quotes the line as it came.
    for (std::string line :
         {std::string(R"({"jsonrpc":"2.0","x":"a\tb","y":"\u00e9"})"),
          std::string(R"({"jsonrpc":"2.0","id":"a\nb",)") + std::string(1000, ' ') + "!"}) {
        CAPTURE(line);
        std::string read = line;
        CHECK_THROWS_AS(decode_message_in_place(read), ProtocolError);
        CHECK(read.substr(0, kLineStartKept) == line.substr(0, kLineStartKept));
    }
}

TEST_CASE("with IdRule::Any a request's id may be a string or null, echoed in the reply") {
    Message request = decode_message(
        Value::parse(R"({"jsonrpc":"2.0","id":"a-1","method":"eval","params":{}})"), IdRule::Any);
    CHECK(request.kind == Message::Kind::Request);
    CHECK(request.raw_id == "a-1");
    CHECK(Value::parse(encode_result(request.raw_id, 5)) ==
          Value{{"jsonrpc", "2.0"}, {"id", "a-1"}, {"result", 5}});

    request =
        decode_message(Value::parse(R"({"jsonrpc":"2.0","id":null,"method":"list"})"), IdRule::Any);
    CHECK(request.kind == Message::Kind::Request);
    CHECK(request.raw_id.is_null());
    CHECK(Value::parse(encode_error(request.raw_id, kInvalidParams, "no"))["id"].is_null());

    request =
        decode_message(Value::parse(R"({"jsonrpc":"2.0","id":9,"method":"list"})"), IdRule::Any);
    CHECK(request.id == 9);
    CHECK(request.raw_id == 9);

    // The bond protocol itself keeps to integers.
    CHECK_THROWS_AS(decode_message(R"({"jsonrpc":"2.0","id":"a","method":"eval","params":{}})"),
                    ProtocolError);
    CHECK_THROWS_AS(
        decode_message(Value::parse(R"({"jsonrpc":"2.0","id":[1],"method":"x"})"), IdRule::Any),
        ProtocolError);
}

TEST_CASE("notifications have no id") {
    std::string line = encode_notification("output", {{"channel", "stdout"}, {"data", "hi"}});
    CHECK(line.find('\n') == line.size() - 1);
    Message decoded = decode_message(line);
    CHECK(decoded.kind == Message::Kind::Notification);
    CHECK(decoded.method == "output");
    CHECK(decoded.params["data"] == "hi");
}
