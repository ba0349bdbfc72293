#include "command_line.hpp"

#include <stdexcept>

namespace bond::detail {

std::vector<std::string> split_command_line(std::string_view command) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;  // distinguishes "" (an empty word) from no word at all
    for (std::size_t i = 0; i < command.size(); ++i) {
        char c = command[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else if (c == '\'') {
            std::size_t end = command.find('\'', i + 1);
            if (end == std::string_view::npos)
                throw std::invalid_argument("unterminated ' in command: " + std::string(command));
            word.append(command.substr(i + 1, end - i - 1));
            i = end;
            in_word = true;
        } else if (c == '"') {
            for (++i;; ++i) {
                if (i >= command.size())
                    throw std::invalid_argument("unterminated \" in command: " +
                                                std::string(command));
                if (command[i] == '"') break;
                if (command[i] == '\\' && i + 1 < command.size() &&
                    std::string_view("\"\\$`").find(command[i + 1]) != std::string_view::npos)
                    ++i;
                word += command[i];
            }
            in_word = true;
        } else if (c == '\\') {
            if (++i >= command.size())
                throw std::invalid_argument("trailing \\ in command: " + std::string(command));
            if (command[i] != '\n') word += command[i];
            in_word = true;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

}  // namespace bond::detail
