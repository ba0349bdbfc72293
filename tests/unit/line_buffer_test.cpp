#include "transport/line_buffer.hpp"

#include <doctest/doctest.h>

#include <string>

using bond::detail::LineBuffer;
using Taken = LineBuffer::Taken;

namespace {
void append(LineBuffer& buffer, const std::string& bytes) {
    buffer.append(bytes.data(), bytes.size());
}
}  // namespace

TEST_CASE("lines are cut at '\\n', however the bytes arrive") {
    LineBuffer buffer(100);
    std::string line;
    append(buffer, "one\ntw");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "one");
    CHECK(buffer.take(line) == Taken::Nothing);
    append(buffer, "o\n\nthree");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "two");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "");
    CHECK(buffer.take(line) == Taken::Nothing);
    append(buffer, "\n");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "three");
}

TEST_CASE("a line over the limit is reported, complete or not, and can be skipped") {
    LineBuffer buffer(4);
    std::string line;
    append(buffer, "12345");
    CHECK(buffer.take(line) == Taken::TooLong);  // before its end has arrived
    buffer.skip_line();
    append(buffer, "6789");  // the rest of the long line is dropped
    CHECK(buffer.take(line) == Taken::Nothing);
    append(buffer, "0\nok\n");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "ok");

    append(buffer, "toolong\nfine\n");  // complete in the buffer
    CHECK(buffer.take(line) == Taken::TooLong);
    buffer.skip_line();
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "fine");

    append(buffer, "1234\n");  // exactly the limit is allowed
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "1234");
}

TEST_CASE("a line that fills the buffer alone is handed over whole, and the buffer goes on") {
    LineBuffer buffer(1 << 20);
    std::string line = "left over from before";
    std::string big(100000, 'x');
    append(buffer, big + "\n");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == big);
    CHECK(buffer.take(line) == Taken::Nothing);
    append(buffer, "next\nand");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "next");
    append(buffer, " more\n");
    CHECK(buffer.take(line) == Taken::Line);
    CHECK(line == "and more");
}
