#include "protocol/json_parser.hpp"
#include "protocol/jsonrpc.hpp"

#include <doctest/doctest.h>

#include <cmath>

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

    for (std::string_view text :
         {"", "not json", "{\"a\":}", "[1,2", "\"\xff\"", "1 2", "{\"a\":1}x", "\"\xed\xa0\x80\"",
          "\"\xc0\xaf\"", "\"a\nb\"", "1e400", "NaN", "[1,]", "// c\n1", "\"\\ud800\"",
          "\"\\udc00\"", "\"a\\ud800\\u0041\"", "{\"\\udfff\":1}", "[\"\\ud83d\\ude00\\ude00\"]"}) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_json(text), ProtocolError);
        std::string copy(text);
        CHECK_THROWS_AS(parse_json_in_place(copy), ProtocolError);
    }
    CHECK_THROWS_WITH_AS(parse_json("[1,"),
                         "not valid JSON: Invalid value (at the end, after 3 bytes)",
                         ProtocolError);
    CHECK_THROWS_WITH_AS(parse_json("[1,x]"), "not valid JSON: Invalid value (at byte 4 of 5)",
                         ProtocolError);
    // RapidJSON ends its input at a NUL byte: one before the end is refused, not taken as the end.
    for (std::string text :
         {std::string("1\0 2", 4), std::string("[1]\0", 4), std::string("\"a\0\"", 4)}) {
        std::string expected =
            "not valid JSON: a NUL byte, which JSON allows only escaped, as "
            "\\u0000 (at byte " +
            std::to_string(text.find('\0') + 1) + " of 4)";
        CHECK_THROWS_WITH_AS(parse_json(text), expected.c_str(), ProtocolError);
        CHECK_THROWS_AS(parse_json_in_place(text), ProtocolError);
    }
    CHECK(parse_json(std::string("\"a\\u0000b\"")) == std::string("a\0b", 3));
}

TEST_CASE("parse_json reads numbers as nlohmann does, to the nearest double") {
    for (const char* text :
         {"0", "-0", "7", "-7", "4294967296", "-2147483649", "18446744073709551615",
          "-9223372036854775808", "18446744073709551616", "-9223372036854775809",
          "123456789012345678901234567890", "0.1", "-2.5e-3", "1E3", "5e-324",
          "1.7976931348623157e308", "2.2250738585072011e-308", "0.30000000000000004"}) {
        CAPTURE(text);
        Value expected = Value::parse(text);
        Value read = parse_json(text);
        CHECK(read == expected);
        CHECK(read.type() == expected.type());
        if (expected.is_number_float())
            CHECK(std::signbit(read.get<double>()) == std::signbit(expected.get<double>()));
    }
    // Below a double's range: zero, as strtod rounds it, with its sign.
    for (std::string text :
         {std::string("1e-400"), std::string("-1e-400"), "0." + std::string(400, '0') + "1",
          "-0." + std::string(400, '0') + "1"}) {
        CAPTURE(text);
        Value read = parse_json(text);
        REQUIRE(read.is_number_float());
        CHECK(read.get<double>() == 0.0);
        CHECK(std::signbit(read.get<double>()) == (text[0] == '-'));
    }
    // Above it: refused, by RapidJSON where it sees it, else by the builder.
    CHECK_THROWS_WITH_AS(parse_json("[1e400]"),
                         "not valid JSON: Number too big to be stored in double (at byte 2 of 7)",
                         ProtocolError);
    CHECK_THROWS_WITH_AS(parse_json("[-" + std::string(400, '9') + ".5]"),
                         "not valid JSON: Number too big to be stored in double (at byte 2 of 405)",
                         ProtocolError);
    CHECK_THROWS_WITH_AS(parse_json("[\"ok\",\"\\udc00\"]"),
                         "not valid JSON: a lone UTF-16 surrogate, \\uDC00 to \\uDFFF without "
                         "\\uD800 to \\uDBFF before it (near byte 15 of 15)",
                         ProtocolError);
    // A large mantissa with a small negative exponent is large, not small.
    CHECK_THROWS_AS(parse_json("1" + std::string(400, '0') + "e-10"), ProtocolError);
    CHECK(parse_json("0.00" + std::string(400, '0') + "5e+300") == Value::parse("5e-103"));
    // Just above the largest double, which RapidJSON lets through.
    CHECK_THROWS_WITH_AS(parse_json("[1.7976931348623159e308]"),
                         "not valid JSON: the number 1.7976931348623159e308 is too large for a "
                         "double (at byte 2 of 24)",
                         ProtocolError);
}

TEST_CASE("parse_json_in_place reads what parse_json reads") {
    for (std::string text : {
             std::string(R"({"a":[1,-2,3.5,"x\ty",true,false,null,{}],"b":{"$bytes":"AAH/"}})"),
             std::string(R"("\u00e9\ud83d\ude00 \n\\\"")"),
             "\"" + std::string(100'000, 'z') + "\"",
             std::string("[12,-3,0.25,1e-400,18446744073709551616]"),
         }) {
        CAPTURE(text);
        bool tags = false;
        Value expected = parse_json(text);
        CHECK(parse_json_in_place(text, kMaxJsonDepth, &tags) == expected);
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
