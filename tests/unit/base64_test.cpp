#include "protocol/base64.hpp"

#include <doctest/doctest.h>

using bond::detail::base64_decode;
using bond::detail::base64_encode;

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(base64_encode(std::string_view("")) == "");
    CHECK(base64_encode(std::string_view("f")) == "Zg==");
    CHECK(base64_encode(std::string_view("fo")) == "Zm8=");
    CHECK(base64_encode(std::string_view("foo")) == "Zm9v");
    CHECK(base64_encode(std::string_view("foob")) == "Zm9vYg==");
    CHECK(base64_encode(std::string_view("fooba")) == "Zm9vYmE=");
    CHECK(base64_encode(std::string_view("foobar")) == "Zm9vYmFy");
}

TEST_CASE("base64 round-trips every byte value") {
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<std::uint8_t>(255 - i));
    for (std::size_t size = 0; size < 10; ++size) {
        std::vector<std::uint8_t> part(bytes.begin(), bytes.begin() + size);
        CHECK(base64_decode(base64_encode(part)) == part);
    }
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
}

TEST_CASE("base64 rejects malformed text") {
    CHECK_FALSE(base64_decode("Zg=").has_value());
    CHECK_FALSE(base64_decode("Z===").has_value());
    CHECK_FALSE(base64_decode("Zm9v!A==").has_value());
    CHECK_FALSE(base64_decode("Zg==Zg==").has_value());
    CHECK_FALSE(base64_decode("Z=g=").has_value());
}
