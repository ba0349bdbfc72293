#include "open_request.hpp"

#include "named_params.hpp"
#include "rpc_error.hpp"

namespace bond::daemon {
namespace {

std::chrono::milliseconds positive_milliseconds(std::int64_t count, const char* name) {
    if (count == 0) throw invalid_params(std::string("parameter '") + name + "' must be > 0");
    return std::chrono::milliseconds(count);
}

}  // namespace

OpenRequest parse_open_request(const Value& params) {
    NamedParams named(params, {"lang", "command", "args", "cwd", "env", "def_args", "trans_except",
                               "timeout_ms", "start_timeout_ms", "name"});
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
    // Only how long starting may take: an interpreter from the pool has started already.
    if (auto start_timeout = named.optional_count("start_timeout_ms"))
        options.start_timeout = positive_milliseconds(*start_timeout, "start_timeout_ms");
    return request;
}

}  // namespace bond::daemon
