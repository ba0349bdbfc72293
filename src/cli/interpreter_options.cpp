#include "interpreter_options.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace bond::cli {
namespace {

// The number at the start of `text` and what follows it.
std::pair<double, std::string_view> split_quantity(std::string_view text, std::string_view key) {
    double number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || !std::isfinite(number) || number < 0)
        throw std::invalid_argument("--limit " + std::string(key) + " wants a number, not '" +
                                    std::string(text) + "'");
    return {number, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view key) {
    auto [number, unit] = split_quantity(text, key);
    double factor = unit == "ms"                  ? 1
                    : unit == "s" || unit.empty() ? 1e3
                    : unit == "m"                 ? 60e3
                    : unit == "h"                 ? 3600e3
                                                  : -1;
    if (factor < 0)
        throw std::invalid_argument("--limit " + std::string(key) + ": unknown unit '" +
                                    std::string(unit) + "' (ms, s, m or h)");
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(number * factor)));
}

std::size_t parse_size(std::string_view text, std::string_view key) {
    auto [number, unit] = split_quantity(text, key);
    if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.remove_suffix(1);
    if (unit.size() == 2 && unit[1] == 'i') unit.remove_suffix(1);  // KiB, MiB, GiB
    double factor = unit.empty()                 ? 1
                    : unit == "K" || unit == "k" ? 1024.0
                    : unit == "M"                ? 1048576.0
                    : unit == "G"                ? 1073741824.0
                                                 : -1;
    if (factor < 0)
        throw std::invalid_argument("--limit " + std::string(key) + ": unknown unit in '" +
                                    std::string(text) + "' (bytes, K, M or G)");
    return static_cast<std::size_t>(std::llround(number * factor));
}

}  // namespace

Limits parse_limits(std::string_view text, Limits limits) {
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty()) continue;
        auto equals = item.find('=');
        if (equals == std::string_view::npos)
            throw std::invalid_argument("--limit wants NAME=VALUE items, not '" +
                                        std::string(item) + "'");
        std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
        if (key == "wall")
            limits.wall = parse_duration(value, key);
        else if (key == "cpu")
            limits.cpu = parse_duration(value, key);
        else if (key == "grace")
            limits.grace = parse_duration(value, key);
        else if (key == "memory")
            limits.memory = parse_size(value, key);
        else if (key == "output")
            limits.output = parse_size(value, key);
        else
            throw std::invalid_argument("--limit: unknown limit '" + std::string(key) +
                                        "' (wall, cpu, memory, output, grace)");
    }
    return limits;
}

void add_interpreter_options(CLI::App& command, InterpreterArguments& arguments) {
    command.add_option("--command", arguments.command,
                       "the interpreter's command line instead of the default one, e.g. "
                       "\"ssh host python3\" or \"sudo -u nobody php\"");
    command.add_option("--arg", arguments.args, "an argument appended to the command (repeatable)")
        ->allow_extra_args(false);
    command.add_option("--cwd", arguments.cwd, "the interpreter's working directory")
        ->check(CLI::ExistingDirectory);
    command
        .add_option("--timeout", arguments.timeout_seconds,
                    "the longest wait for any one reply of the interpreter, in seconds "
                    "(default: none); the bond is closed when it expires")
        ->check(CLI::PositiveNumber);
    command
        .add_option("--limit", arguments.limits,
                    "limits for every operation: wall=2s,cpu=1s,memory=256M,output=1M,grace=1s "
                    "(docs/limits.md)")
        ->check([](const std::string& text) {
            try {
                parse_limits(text);
                return std::string();
            } catch (const std::invalid_argument& error) {
                // CLI11 puts "--limit: " in front of the message, which names the option itself
                std::string message = error.what();
                for (std::string_view prefix : {"--limit: ", "--limit "})
                    if (message.starts_with(prefix)) return message.substr(prefix.size());
                return message;
            }
        })
        ->allow_extra_args(false);
    command.add_flag("--sandbox", arguments.sandbox,
                     "run the interpreter in the bubblewrap sandbox: no network, read-only "
                     "system, private /tmp (docs/limits.md)");
    // Repeatable options take one value each: what follows is bond exec's ARGS.
    command
        .add_option("--sandbox-read", arguments.sandbox_read_only,
                    "a host path the sandboxed code may read (implies --sandbox)")
        ->allow_extra_args(false);
    command
        .add_option("--sandbox-write", arguments.sandbox_writable,
                    "a host path the sandboxed code may read and write (implies --sandbox)")
        ->allow_extra_args(false);
    auto* container =
        command
            .add_option(
                "--container", arguments.container,
                "run the interpreter in a container: lxc (LXC over the host's / read-only, no "
                "network), lxc-unprivileged (the same with its ids mapped onto "
                "100000-165535) or nspawn (systemd-nspawn); docs/remote.md")
            ->check(CLI::IsMember({"lxc", "lxc-unprivileged", "nspawn"}));
    command
        .add_option("--container-write", arguments.container_writable,
                    "a host directory the contained code may write, under the same name "
                    "(repeatable; needs --container)")
        ->allow_extra_args(false)
        ->needs(container);
    command.get_option("--sandbox")->excludes(container);
}

Options to_options(const InterpreterArguments& arguments) {
    Options options;
    options.command = arguments.command;
    options.args = arguments.args;
    if (!arguments.cwd.empty()) options.cwd = arguments.cwd;
    options.timeout = arguments.timeout_seconds
                          ? std::chrono::milliseconds(static_cast<std::int64_t>(
                                std::llround(*arguments.timeout_seconds * 1000)))
                          : std::chrono::milliseconds::max();
    for (const auto& text : arguments.limits) options.limits = parse_limits(text, options.limits);
    if (arguments.sandbox || !arguments.sandbox_read_only.empty() ||
        !arguments.sandbox_writable.empty()) {
        Sandbox sandbox;
        for (const auto& path : arguments.sandbox_read_only) sandbox.read_only.emplace_back(path);
        for (const auto& path : arguments.sandbox_writable) sandbox.writable.emplace_back(path);
        options.sandbox = std::move(sandbox);
    }
    std::vector<std::filesystem::path> writable(arguments.container_writable.begin(),
                                                arguments.container_writable.end());
    if (arguments.container == "lxc" || arguments.container == "lxc-unprivileged")
        options.container =
            Lxc{.writable = writable,
                .id_map = arguments.container == "lxc" ? std::nullopt : std::optional(IdMap{})};
    else if (arguments.container == "nspawn")
        options.container = Nspawn{.writable = writable};
    return options;
}

}  // namespace bond::cli
