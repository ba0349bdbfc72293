// Values cross losslessly both ways: every JSON type, exact 64-bit integers, any Unicode, bytes,
// nesting, and payloads from 1 KiB to 16 MiB.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

using bond::Value;
using namespace conformance;

TEST_CASE("every JSON value round-trips through a remote identity function") {
    const std::string unicode = std::string("nul:\0 nl:\n tab:\t cr:\r quote:\" bs:\\ ", 33) +
                                "é ß 中文 עברית 😀 \u2028\u2029 \x7f";
    const std::vector<Value> values = {
        nullptr,
        true,
        false,
        0,
        -1,
        std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::uint64_t>::max(),
        1.5,
        -0.25,
        1e300,
        5e-324,
        "",
        unicode,
        Value::array(),
        Value::object(),
        {1, "two", nullptr, {3.5, {true}}},
        {{"key", "value"}, {"nested", {{"deeper", {1, 2, 3}}}}, {unicode, unicode}},
        {{"$bytes", "not base64!"}},  // only valid base64 under that one key is bytes
        {{"$bytes", "AAAA"}, {"other", 1}},
    };
    for_each_language([&](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_ident);
        for (const Value& value : values) {
            CAPTURE(value.dump());
            Value back = remote.call("ident", value);
            CHECK(back == value);
            CHECK(back.is_number_float() == value.is_number_float());
            CHECK(back.is_string() == value.is_string());
        }
        Value deep = 1;
        for (int i = 0; i < 200; ++i) deep = Value::array({deep});
        CHECK(remote.call("ident", deep) == deep);
    });
}

TEST_CASE("64-bit integers are exact in remote arithmetic") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_add);
        const std::int64_t max = std::numeric_limits<std::int64_t>::max();
        CHECK(remote.call("add", max - 1, 1).get<std::int64_t>() == max);
        CHECK(remote.call("add", -max, -1).get<std::int64_t>() ==
              std::numeric_limits<std::int64_t>::min());
        CHECK(remote.call("add", std::int64_t{1} << 53, 1).get<std::int64_t>() ==
              (std::int64_t{1} << 53) + 1);
    });
}

TEST_CASE("bytes cross as binary_t and arrive as the language's bytes type") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_ident);
        remote.eval_block(language.define_is_bytes);
        Value bytes = remote.eval(language.bytes_value);
        REQUIRE(bytes.is_binary());
        CHECK(bytes == Value::binary({0x00, 0xff, 0x41}));

        Value all_bytes = Value::binary({});
        for (int i = 0; i < 256; ++i)
            all_bytes.get_binary().push_back(static_cast<std::uint8_t>(i));
        CHECK(remote.call("is_bytes", all_bytes) == true);
        CHECK(remote.call("is_bytes", "text") == false);
        CHECK(remote.call("ident", all_bytes) == all_bytes);
        Value nested = {{"blob", all_bytes}, {"list", {Value::binary({}), "x"}}};
        CHECK(remote.call("ident", nested) == nested);
    });
}

TEST_CASE("payloads from 1 KiB to 16 MiB round-trip") {
    for_each_language([](const Language& language) {
        bond::Bond remote = make_test_bond(language);
        remote.eval_block(language.define_ident);
        for (std::size_t size : {std::size_t{1} << 10, std::size_t{64} << 10, std::size_t{1} << 20,
                                 std::size_t{16} << 20}) {
            CAPTURE(size);
            std::string text(size, 'x');
            for (std::size_t i = 0; i < size; i += 997) text[i] = static_cast<char>('a' + i % 26);
            text[size / 2] = '\n';
            Value back = remote.call("ident", text);
            CHECK(back == text);
        }
        Value blob = Value::binary(std::vector<std::uint8_t>(std::size_t{1} << 20, 0xfe));
        CHECK(remote.call("ident", blob) == blob);
    });
}
