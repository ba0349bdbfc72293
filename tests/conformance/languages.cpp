#include "languages.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../support/language_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace conformance {
namespace {

// A snippet built from an argument: a template of tests/languages.json, where {literal} is the
// argument as a string literal of the language and {raw} the argument as it is.
Snippet from_template(std::string code, const Snippet& literal) {
    return [code = std::move(code), literal](const std::string& argument) {
        std::string text;
        for (std::size_t at = 0; at < code.size();) {
            if (code.compare(at, 9, "{literal}") == 0) {
                text += literal(argument);
                at += 9;
            } else if (code.compare(at, 5, "{raw}") == 0) {
                text += argument;
                at += 5;
            } else {
                text += code[at++];
            }
        }
        return text;
    };
}

// JSON's string literals are Python's and JavaScript's.
std::string json_literal(const std::string& text) {
    return bond::Value(text).dump();
}

// PHP's and Perl's single-quoted literals: only \\ and \' are escapes there.
std::string single_quoted_literal(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\\' || c == '\'') quoted += '\\';
        quoted += c;
    }
    return quoted + "'";
}

std::string upper_case(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// The languages of drivers/registry.json with their snippets from tests/languages.json
// (tests/support/language_table.hpp).
Language from_table(const nlohmann::json& entry) {
    Language language;
#define CONFORMANCE_FROM_TABLE(field) entry.at(#field).get_to(language.field)
    CONFORMANCE_FROM_TABLE(name);
    CONFORMANCE_FROM_TABLE(interpreter);
    CONFORMANCE_FROM_TABLE(define_add);
    CONFORMANCE_FROM_TABLE(define_ident);
    CONFORMANCE_FROM_TABLE(define_fails);
    CONFORMANCE_FROM_TABLE(define_down);
    CONFORMANCE_FROM_TABLE(define_catching);
    CONFORMANCE_FROM_TABLE(define_is_bytes);
    CONFORMANCE_FROM_TABLE(set_global);
    CONFORMANCE_FROM_TABLE(get_global);
    CONFORMANCE_FROM_TABLE(error_type);
    CONFORMANCE_FROM_TABLE(syntax_error);
    CONFORMANCE_FROM_TABLE(die_file);
    CONFORMANCE_FROM_TABLE(die_file_function);
    CONFORMANCE_FROM_TABLE(syntax_error_file);
    CONFORMANCE_FROM_TABLE(clobber_globals);
    CONFORMANCE_FROM_TABLE(language_globals);
    CONFORMANCE_FROM_TABLE(undefined_function);
    CONFORMANCE_FROM_TABLE(unserializable);
    CONFORMANCE_FROM_TABLE(bytes_value);
    CONFORMANCE_FROM_TABLE(infinite_loop);
    CONFORMANCE_FROM_TABLE(runaway_loops);
    CONFORMANCE_FROM_TABLE(swallowing_loop);
    CONFORMANCE_FROM_TABLE(memory_bomb);
    CONFORMANCE_FROM_TABLE(sleep_forever);
    CONFORMANCE_FROM_TABLE(blocking_read);
    CONFORMANCE_FROM_TABLE(output_flood);
    CONFORMANCE_FROM_TABLE(survives_memory_limit);
    CONFORMANCE_FROM_TABLE(cwd);
    CONFORMANCE_FROM_TABLE(pid);
    CONFORMANCE_FROM_TABLE(exit_3);
    CONFORMANCE_FROM_TABLE(uid);
    CONFORMANCE_FROM_TABLE(define_relay);
    CONFORMANCE_FROM_TABLE(define_files);
    CONFORMANCE_FROM_TABLE(define_connect);
    CONFORMANCE_FROM_TABLE(define_tally);
    CONFORMANCE_FROM_TABLE(new_tally);
    CONFORMANCE_FROM_TABLE(tally_in_list);
    CONFORMANCE_FROM_TABLE(adder);
    CONFORMANCE_FROM_TABLE(subtracter);
    CONFORMANCE_FROM_TABLE(frozen);
    CONFORMANCE_FROM_TABLE(spinner);
    CONFORMANCE_FROM_TABLE(define_users);
    CONFORMANCE_FROM_TABLE(define_keeper);
#undef CONFORMANCE_FROM_TABLE
    // The names to try: the name in lower and upper case, and each alias as it is and capitalized.
    language.aliases = {entry.at("key"), upper_case(language.name)};
    for (std::string alias : entry.at("aliases")) {
        language.aliases.push_back(alias);
        alias[0] = upper_case(alias.substr(0, 1))[0];
        language.aliases.push_back(alias);
    }
    std::string style = entry.at("string_literal");
    if (style != "json" && style != "single_quoted")
        throw std::runtime_error(language.name + ": unknown string_literal " + style);
    language.string_literal = style == "json" ? json_literal : single_quoted_literal;
#define CONFORMANCE_SNIPPET(field) \
    language.field = from_template(entry.at(#field), language.string_literal)
    CONFORMANCE_SNIPPET(read_file);
    CONFORMANCE_SNIPPET(write_file);
    CONFORMANCE_SNIPPET(can_connect);
    CONFORMANCE_SNIPPET(print_line);
    CONFORMANCE_SNIPPET(print_error);
    CONFORMANCE_SNIPPET(run_command);
    CONFORMANCE_SNIPPET(call_export);
    CONFORMANCE_SNIPPET(env_variable);
#undef CONFORMANCE_SNIPPET
    return language;
}

}  // namespace

const std::vector<Language>& languages() {
    static const std::vector<Language> all = [] {
        std::vector<Language> all;
        for (const auto& entry : bond_tests::language_table()) all.push_back(from_table(entry));
        return all;
    }();
    return all;
}

std::vector<std::string> languages_outside_shared_suites() {
    return bond_tests::languages_outside_shared_suites();
}

// BOND_CONFORMANCE_LANGUAGES (names separated by commas), when set, limits the run to those
// languages: a second run of one language's table under other settings (Perl with JSON::PP).
static bool selected(const Language& language) {
    const char* list = std::getenv("BOND_CONFORMANCE_LANGUAGES");
    if (list == nullptr || *list == '\0') return true;
    std::string names = std::string(",") + list + ",";
    return names.find("," + language.name + ",") != std::string::npos;
}

void for_each_language(const std::function<void(const Language&)>& test) {
    for (const auto& language : languages()) {
        if (!selected(language)) continue;
        INFO("language: ", language.name);
        test(language);
    }
}

std::string OutputLog::text(bond::Channel channel) const {
    std::string text;
    for (const auto& [from, chunk] : chunks)
        if (from == channel) text += chunk;
    return text;
}

std::string OutputLog::all() const {
    std::string text;
    for (const auto& chunk : chunks) text += chunk.second;
    return text;
}

bond::Bond make_test_bond(const Language& language, bond::Options options) {
    if (options.timeout == bond::Options{}.timeout) options.timeout = std::chrono::seconds(120);
    const char* prefix = std::getenv("BOND_CONFORMANCE_PREFIX");
    if (prefix && *prefix && options.command.empty())
        options.command = std::string(prefix) + " " + language.interpreter;
    // conformance_through.sh lxc|lxc-unprivileged|nspawn: every bond in a container preset.
    std::string container = std::getenv("BOND_CONFORMANCE_CONTAINER") ?: "";
    if (!container.empty() && options.command.empty() && !options.sandbox && !options.container) {
        if (container == "lxc") options.container = bond::Lxc{};
        if (container == "lxc-unprivileged") options.container = bond::Lxc{.id_map = bond::IdMap{}};
        if (container == "nspawn") options.container = bond::Nspawn{};
        REQUIRE_MESSAGE(options.container, "unknown BOND_CONFORMANCE_CONTAINER ", container);
    }
    return bond::make_bond(language.name, std::move(options));
}

int interpreter_pid(bond::Bond& remote, const Language& language) {
    const char* container = std::getenv("BOND_CONFORMANCE_CONTAINER");
    if (container && *container) return remote.pid();
    return remote.eval(language.pid).get<int>();
}

void interrupt_once_started(bond::Bond& remote, const std::function<void()>& run) {
    std::mutex mutex;
    std::condition_variable started;
    bool running = false;
    remote.export_function("started", [&] {
        std::lock_guard lock(mutex);
        running = true;
        started.notify_all();
    });
    std::thread interrupter([&] {
        std::unique_lock lock(mutex);
        started.wait(lock, [&] { return running; });
        remote.interrupt();
    });
    std::exception_ptr failure;
    try {
        run();
    } catch (...) {
        failure = std::current_exception();
    }
    {
        std::lock_guard lock(mutex);  // `run` may have ended without calling started()
        running = true;
        started.notify_all();
    }
    interrupter.join();
    if (failure) std::rethrow_exception(failure);
}

bool raises_remote(bond::Bond& remote, const std::string& code) {
    try {
        remote.eval_block(code);
    } catch (const bond::RemoteException&) {
        return true;
    }
    return false;
}

LoopbackListener::LoopbackListener() : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port = ntohs(address.sin_port);
}

LoopbackListener::~LoopbackListener() {
    ::close(fd);
}

}  // namespace conformance
