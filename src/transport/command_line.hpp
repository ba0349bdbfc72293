// Splits Options::command into words as a POSIX shell would ('single', "double" with \" \\ \$ \`,
// backslash outside quotes), without running a shell: no expansion of any kind.
// Boost's program_options::split_unix does not treat the two quote kinds apart, hence this file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bond::detail {
// Throws std::invalid_argument on an unterminated quote or a trailing backslash.
std::vector<std::string> split_command_line(std::string_view command);
}  // namespace bond::detail
