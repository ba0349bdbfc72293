#include "transport/command_line.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using bond::detail::split_command_line;
using Words = std::vector<std::string>;

TEST_CASE("commands split into words as a POSIX shell splits them") {
    CHECK(split_command_line("python3") == Words{"python3"});
    CHECK(split_command_line("  ssh  -p 2222\thost   python3 ") ==
          Words{"ssh", "-p", "2222", "host", "python3"});
    CHECK(split_command_line("sudo -u nobody 'my python' -X dev") ==
          Words{"sudo", "-u", "nobody", "my python", "-X", "dev"});
    CHECK(split_command_line(R"(a 'x"y' "p'q" "a \"b\" \\ \$ \n")") ==
          Words{"a", "x\"y", "p'q", "a \"b\" \\ $ \\n"});
    CHECK(split_command_line(R"(a\ b c\'d)") == Words{"a b", "c'd"});
    CHECK(split_command_line("x '' \"\" y") == Words{"x", "", "", "y"});
    CHECK(split_command_line("pre'quoted'post") == Words{"prequotedpost"});
    CHECK(split_command_line("$HOME *.py") == Words{"$HOME", "*.py"});  // no expansion
    CHECK(split_command_line("") == Words{});
}

TEST_CASE("unterminated quotes and trailing backslashes are errors") {
    CHECK_THROWS_AS(split_command_line("python3 'oops"), std::invalid_argument);
    CHECK_THROWS_AS(split_command_line("python3 \"oops"), std::invalid_argument);
    CHECK_THROWS_AS(split_command_line("python3 \\"), std::invalid_argument);
}
