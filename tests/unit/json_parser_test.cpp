#include "protocol/json_parser.hpp"
#include "protocol/jsonrpc.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace bond::detail;
using bond::Value;

TEST_CASE("parse_json reads what Value::parse reads") {
    for (const char* text : {
             R"({"a":[1,-2,3.5,"x",true,false,null,{}],"b":{"c":[]},"d":18446744073709551615})",
             R"("\u00e9\ud83d\ude00 \n")",
             "[[[[]]]]",
             "-0.0",
             "  7 ",
         }) {
        CAPTURE(text);
        CHECK(parse_json(text) == Value::parse(text));
    }
    // As in nlohmann's own parser, the last of a repeated key wins.
    CHECK(parse_json(R"({"k":1,"k":2})") == Value{{"k", 2}});
}

TEST_CASE("parse_json turns {\"$bytes\": base64} objects into bytes at any depth") {
    Value value = parse_json(R"([{"$bytes":"AAH/"},{"in":{"$bytes":""}},{"$bytes":"AA==","x":1},
                                 {"$bytes":"not base64!"},{"$bytes":5}])");
    CHECK(value[0] == Value::binary({0, 1, 255}));
    CHECK(value[1]["in"] == Value::binary({}));
    CHECK(value[2].is_object());
    CHECK(value[3] == Value{{"$bytes", "not base64!"}});
    CHECK(value[4] == Value{{"$bytes", 5}});
}

TEST_CASE("parse_json refuses deep nesting and bad JSON with a clear error") {
    // A million levels: refused at the bound, without recursion or a million allocations.
    std::string deep(1'000'000, '[');
    deep += std::string(1'000'000, ']');
    CHECK_THROWS_WITH_AS(parse_json(deep), "JSON nested more than 10000 levels deep",
                         ProtocolError);
    std::string objects;
    for (int i = 0; i < 200; ++i) objects += "{\"k\":";
    objects += "1" + std::string(200, '}');
    CHECK_NOTHROW(parse_json(objects, 200));
    CHECK_THROWS_AS(parse_json(objects, 199), ProtocolError);

    for (const char* text : {"", "not json", "{\"a\":}", "[1,2", "\"\xff\"", "1 2", "{\"a\":1}x"}) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_json(text), ProtocolError);
    }
    try {
        parse_json("[1,");
    } catch (const ProtocolError& error) {
        std::string message = error.what();
        CHECK(message.starts_with("not valid JSON: parse error at line 1, column 4"));
    }
}

TEST_CASE("a message nested too deeply is a protocol error, not a crash") {
    std::string line = R"({"jsonrpc":"2.0","id":1,"result":)" + std::string(100'000, '[') +
                       std::string(100'000, ']') + "}";
    CHECK_THROWS_WITH_AS(decode_message(line), "JSON nested more than 10000 levels deep",
                         ProtocolError);
}

TEST_CASE("the parser says whether an object has a key of an object or code tag") {
    for (const auto& [text, expected] :
         std::vector<std::pair<std::string, bool>>{{R"([1,"$obj",{"$bytes":""}])", false},
                                                   {R"({"a":{"$obj":1}})", true},
                                                   {R"([{"$yours":2}])", true},
                                                   {R"({"$code":"x","y":1})", true},
                                                   {R"({"$codes":1})", false}}) {
        CAPTURE(text);
        bool tag_keys = false;
        parse_json(text, kMaxJsonDepth, &tag_keys);
        CHECK(tag_keys == expected);
    }
}
