// A bond's output, collected per channel and in arrival order, for language-specific tests.
#pragma once

#include <bond/bond.hpp>

#include <functional>
#include <string>
#include <string_view>

struct Output {
    std::string stdout_text, stderr_text, all;
    std::function<void(bond::Channel, std::string_view)> sink() {
        return [this](bond::Channel channel, std::string_view text) {
            (channel == bond::Channel::Stdout ? stdout_text : stderr_text).append(text);
            all.append(text);
        };
    }
};
