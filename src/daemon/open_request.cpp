#include "open_request.hpp"

#include "named_params.hpp"
#include "rpc_error.hpp"

#include <filesystem>
#include <string_view>
#include <vector>

namespace bond::daemon {
namespace {

std::chrono::milliseconds positive_milliseconds(std::int64_t count, const char* name) {
    if (count == 0) throw invalid_params(std::string("parameter '") + name + "' must be > 0");
    return std::chrono::milliseconds(count);
}

std::vector<std::filesystem::path> paths(const NamedParams& named, std::string_view name) {
    std::vector<std::filesystem::path> paths;
    for (const auto& path : named.optional_array(name).value_or(Value::array())) {
        if (!path.is_string())
            throw invalid_params("parameter '" + std::string(name) + "' must hold paths (strings)");
        paths.emplace_back(path.get<std::string>());
    }
    return paths;
}

// true, false, or {read_only?, writable?}: the paths of the host the sandbox shows.
std::optional<bond::Sandbox> parse_sandbox(const Value& sandbox) {
    if (sandbox.is_boolean())
        return sandbox.get<bool>() ? std::optional<bond::Sandbox>(bond::Sandbox{}) : std::nullopt;
    if (!sandbox.is_object())
        throw invalid_params("parameter 'sandbox' must be true, false or {read_only, writable}");
    NamedParams named(sandbox, {"read_only", "writable"});
    return bond::Sandbox{.read_only = paths(named, "read_only"),
                         .writable = paths(named, "writable")};
}

std::uint32_t id_number(const NamedParams& named, std::string_view name, std::uint32_t otherwise) {
    auto count = named.optional_count(name);
    if (count && *count > 0xffffffff)
        throw invalid_params("parameter '" + std::string(name) + "' is not a user or group id");
    return count ? static_cast<std::uint32_t>(*count) : otherwise;
}

// "lxc", "nspawn", or {tool: "lxc", root?, writable?, host_network?, id_map?, uid?, gid?} or
// {tool: "nspawn", root?, read_only?, writable?, host_network?, user?}: the container presets.
bond::Container parse_container(const Value& container) {
    if (container.is_string()) {
        if (container == "lxc") return bond::Lxc{};
        if (container == "nspawn") return bond::Nspawn{};
    }
    if (!container.is_object() || !container.contains("tool") || !container["tool"].is_string())
        throw invalid_params(
            "parameter 'container' must be \"lxc\", \"nspawn\" or an object "
            "{tool, ...} (docs/daemon.md, Containers)");
    std::string tool = container["tool"].get<std::string>();
    if (tool == "lxc") {
        NamedParams named(container,
                          {"tool", "root", "writable", "host_network", "id_map", "uid", "gid"});
        bond::Lxc lxc{.writable = paths(named, "writable"),
                      .host_network = named.optional_bool("host_network").value_or(false)};
        if (auto root = named.optional_string("root")) lxc.root = *root;
        if (auto id_map = named.optional_value("id_map")) {
            if (*id_map == true) {
                lxc.id_map = bond::IdMap{};
            } else if (id_map->is_object()) {
                NamedParams range(*id_map, {"first", "count"});
                lxc.id_map = bond::IdMap{.first = id_number(range, "first", bond::IdMap{}.first),
                                         .count = id_number(range, "count", bond::IdMap{}.count)};
            } else if (*id_map != false) {
                throw invalid_params("parameter 'id_map' must be true, false or {first, count}");
            }
        }
        if (named.optional_count("uid")) lxc.uid = id_number(named, "uid", 0);
        if (named.optional_count("gid")) lxc.gid = id_number(named, "gid", 0);
        return lxc;
    }
    if (tool == "nspawn") {
        NamedParams named(container,
                          {"tool", "root", "read_only", "writable", "host_network", "user"});
        bond::Nspawn nspawn{.read_only = paths(named, "read_only"),
                            .writable = paths(named, "writable"),
                            .host_network = named.optional_bool("host_network").value_or(false),
                            .user = named.optional_string("user").value_or("")};
        if (auto root = named.optional_string("root")) nspawn.root = *root;
        return nspawn;
    }
    throw invalid_params("parameter 'container' names the tool '" + tool +
                         "', which is unknown (it must be lxc or nspawn)");
}

}  // namespace

bond::Limits parse_limits(const Value& limits) {
    NamedParams named(limits, {"wall_ms", "cpu_ms", "memory_bytes", "output_bytes", "grace_ms"});
    bond::Limits parsed;
    auto milliseconds = [&](const char* name) -> std::optional<std::chrono::milliseconds> {
        if (auto count = named.optional_count(name)) return positive_milliseconds(*count, name);
        return std::nullopt;
    };
    parsed.wall = milliseconds("wall_ms");
    parsed.cpu = milliseconds("cpu_ms");
    if (auto grace = named.optional_count("grace_ms"))  // 0: kill at once
        parsed.grace = std::chrono::milliseconds(*grace);
    parsed.memory = named.optional_count("memory_bytes");
    parsed.output = named.optional_count("output_bytes");
    return parsed;
}

OpenRequest parse_open_request(const Value& params) {
    NamedParams named(
        params, {"lang", "command", "args", "cwd", "env", "def_args", "trans_except", "timeout_ms",
                 "start_timeout_ms", "limits", "sandbox", "container", "name"});
    OpenRequest request;
    request.lang = named.string("lang");
    request.name = named.optional_string("name");
    if (request.name && request.name->empty())
        throw invalid_params("parameter 'name' must not be empty");
    bond::Options& options = request.options;

    if (auto command = named.optional_string("command")) {
        options.command = *command;
        request.fits_pool = false;
    }
    if (auto args = named.optional_array("args")) {
        for (const auto& arg : *args) {
            if (!arg.is_string()) throw invalid_params("parameter 'args' must hold strings only");
            options.args.push_back(arg.get<std::string>());
        }
        request.fits_pool = request.fits_pool && options.args.empty();
    }
    if (auto cwd = named.optional_string("cwd")) {
        options.cwd = *cwd;
        request.fits_pool = false;
    }
    if (auto env = named.optional_object("env")) {
        options.env.emplace();
        for (const auto& [key, value] : env->items()) {
            if (!value.is_string())
                throw invalid_params("parameter 'env' must map names to strings ('" + key +
                                     "' does not)");
            (*options.env)[key] = value.get<std::string>();
        }
        request.fits_pool = false;
    }
    if (auto def_args = named.optional_bool("def_args")) {
        options.def_args = *def_args;
        request.fits_pool = request.fits_pool && *def_args;
    }
    if (auto trans_except = named.optional_bool("trans_except")) {
        options.trans_except = *trans_except;
        request.fits_pool = request.fits_pool && !*trans_except;
    }
    if (auto timeout = named.optional_count("timeout_ms")) {
        options.timeout = positive_milliseconds(*timeout, "timeout_ms");
        request.fits_pool = false;
    }
    if (auto limits = named.optional_object("limits")) {
        options.limits = parse_limits(*limits);
        request.fits_pool = false;
    }
    if (auto sandbox = named.optional_value("sandbox")) {
        options.sandbox = parse_sandbox(*sandbox);
        request.fits_pool = request.fits_pool && !options.sandbox;
    }
    if (auto container = named.optional_value("container")) {
        if (!container->is_null()) options.container = parse_container(*container);
        request.fits_pool = request.fits_pool && !options.container;
    }
    // Only how long starting may take: an interpreter from the pool has started already.
    if (auto start_timeout = named.optional_count("start_timeout_ms"))
        options.start_timeout = positive_milliseconds(*start_timeout, "start_timeout_ms");
    return request;
}

}  // namespace bond::daemon
