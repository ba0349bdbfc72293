#include "languages.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace conformance {
namespace {

// The entry of `name` in tests/languages.json (its path: BOND_LANGUAGES_JSON), the one table of
// the languages' plain-text facts that the benchmark and the Python tests read too.
const nlohmann::json& table_entry(const std::string& name) {
    static const nlohmann::json table = [] {
        std::ifstream file(BOND_LANGUAGES_JSON);
        if (!file) throw std::runtime_error("cannot read " BOND_LANGUAGES_JSON);
        return nlohmann::json::parse(file);
    }();
    for (const auto& entry : table.at("languages"))
        if (entry.at("name") == name) return entry;
    throw std::runtime_error(name + " has no entry in " BOND_LANGUAGES_JSON);
}

// A Language with every field that is plain text taken from the table; the snippets built from
// arguments are the caller's to add.
Language from_table(const std::string& name) {
    const nlohmann::json& entry = table_entry(name);
    Language language;
#define CONFORMANCE_FROM_TABLE(field) entry.at(#field).get_to(language.field)
    CONFORMANCE_FROM_TABLE(name);
    CONFORMANCE_FROM_TABLE(aliases);
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
    return language;
}

std::string literal(const std::string& text) {
    return bond::Value(text).dump();
}

Language python() {
    Language language = from_table("Python");
    language.read_file = [](const std::string& path) {
        return "open(" + literal(path) + ").read()";
    };
    language.write_file = [](const std::string& path) {
        return "with open(" + literal(path) + ", 'w') as f:\n    f.write('written')\n";
    };
    language.can_connect = [](const std::string& port) {
        return "__import__('socket').socket().connect_ex(('127.0.0.1', " + port + ")) == 0";
    };
    language.print_line = [](const std::string& text) { return "print(" + literal(text) + ")"; };
    language.print_error = [](const std::string& text) {
        return "import sys\nsys.stderr.write(" + literal(text + "\n") + ")";
    };
    language.run_command = [](const std::string& command) {
        return "import os\nos.system(" + literal(command) + ")";
    };
    language.call_export = [](const std::string& name) { return name + "()"; };
    language.env_variable = [](const std::string& name) {
        return "__import__('os').environ.get(" + literal(name) + ")";
    };
    language.string_literal = literal;
    return language;
}

// A PHP single-quoted string literal: only \\ and \' are escapes there.
std::string php_literal(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\\' || c == '\'') quoted += '\\';
        quoted += c;
    }
    return quoted + "'";
}

// PHP strings are bytes: a string that is not valid UTF-8 crosses as bytes, and bytes that happen
// to be valid UTF-8 (the empty string included) arrive as Bond\Bytes, so that they go back as
// bytes.
Language php() {
    Language language = from_table("PHP");
    language.read_file = [](const std::string& path) {
        return "(function ($p) { $c = file_get_contents($p); if ($c === false) throw new "
               "Exception(\"cannot read $p\"); return $c; })(" +
               php_literal(path) + ")";
    };
    language.write_file = [](const std::string& path) {
        return "if (file_put_contents(" + php_literal(path) +
               ", 'written') === false) throw new Exception('cannot write');";
    };
    language.can_connect = [](const std::string& port) {
        return "(bool)@fsockopen('127.0.0.1', " + port + ", $errno, $error, 5)";
    };
    language.print_line = [](const std::string& text) {
        return "echo " + php_literal(text) + " . \"\\n\";";
    };
    language.print_error = [](const std::string& text) {
        return "fwrite(STDERR, " + php_literal(text) + " . \"\\n\");";
    };
    language.run_command = [](const std::string& command) {
        return "system(" + php_literal(command) + ");";
    };
    // A statement as well as an expression: eval ignores a trailing ";".
    language.call_export = [](const std::string& name) { return name + "();"; };
    language.env_variable = [](const std::string& name) {
        return "(getenv(" + php_literal(name) + ") === false ? null : getenv(" + php_literal(name) +
               "))";
    };
    language.string_literal = php_literal;
    return language;
}

// A Perl single-quoted string literal of `text`.
std::string perl_literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

Language perl() {
    Language language = from_table("Perl");
    language.read_file = [](const std::string& path) {
        return "do { open(my $f, '<', " + perl_literal(path) +
               ") or die \"cannot read: $!\\n\"; local $/; <$f> }";
    };
    language.write_file = [](const std::string& path) {
        return "open(my $f, '>', " + perl_literal(path) +
               ") or die \"cannot write: $!\\n\"; print $f 'written'; close $f;";
    };
    language.can_connect = [](const std::string& port) {
        return "do { require IO::Socket::INET; IO::Socket::INET->new(PeerAddr => "
               "'127.0.0.1', PeerPort => " +
               port + ", Timeout => 5) ? !!1 : !!0 }";
    };
    language.print_line = [](const std::string& text) {
        return "print " + perl_literal(text) + ", \"\\n\";";
    };
    language.print_error = [](const std::string& text) {
        return "print STDERR " + perl_literal(text) + ", \"\\n\";";
    };
    language.run_command = [](const std::string& command) {
        return "system(" + perl_literal(command) + ");";
    };
    // A statement as well as an expression.
    language.call_export = [](const std::string& name) { return name + "();"; };
    language.env_variable = [](const std::string& name) {
        return "$ENV{" + perl_literal(name) + "}";
    };
    language.string_literal = perl_literal;
    return language;
}

// JSON's string literals are JavaScript's.
Language javascript() {
    Language language = from_table("JavaScript");
    language.read_file = [](const std::string& path) {
        return "require('fs').readFileSync(" + literal(path) + ", 'utf8')";
    };
    language.write_file = [](const std::string& path) {
        return "require('fs').writeFileSync(" + literal(path) + ", 'written');";
    };
    language.can_connect = [](const std::string& port) {
        return "await new Promise((resolve) => {\n"
               "    const socket = require('net').connect(" +
               port +
               ", '127.0.0.1');\n"
               "    socket.on('connect', () => { socket.destroy(); resolve(true); });\n"
               "    socket.on('error', () => resolve(false));\n"
               "})";
    };
    language.print_line = [](const std::string& text) {
        return "console.log(" + literal(text) + ");";
    };
    language.print_error = [](const std::string& text) {
        return "console.error(" + literal(text) + ");";
    };
    language.run_command = [](const std::string& command) {
        return "require('child_process').execSync(" + literal(command) + ", {stdio: 'inherit'});";
    };
    language.call_export = [](const std::string& name) { return name + "()"; };
    language.env_variable = [](const std::string& name) {
        return "process.env[" + literal(name) + "] ?? null";
    };
    language.string_literal = literal;
    return language;
}

}  // namespace

const std::vector<Language>& languages() {
    static const std::vector<Language> all = {python(), php(), perl(), javascript()};
    return all;
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
