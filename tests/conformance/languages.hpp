// The conformance suite's one per-language table. Each test case is written once, in terms of
// these snippets, and runs for every language listed in languages(): every language of
// drivers/registry.json, with its snippets from tests/languages.json (shared with the benchmark
// and the Python tests; a Snippet is a template there). Adding a language adds table entries, not
// a copy of the tests.
#pragma once

#include <bond/bond.hpp>

#include <functional>
#include <string>
#include <vector>

namespace conformance {

using Snippet = std::function<std::string(const std::string&)>;

struct Language {
    std::string name;                  // as given to make_bond
    std::vector<std::string> aliases;  // names make_bond accepts: the registry's, in several cases
    std::string interpreter;           // the driver's default command

    // eval_block code defining functions:
    std::string define_add;       // add(a, b): a + b
    std::string define_ident;     // ident(x): x
    std::string define_fails;     // fails(): raises an error whose message contains "boom"
    std::string define_down;      // down(n): 0 when n is 0, else up(n - 1) + 1 (up is exported)
    std::string define_catching;  // catching(): calls thrower() and returns the caught error's
                                  // message as a string
    std::string define_is_bytes;  // is_bytes(x): true when x is the language's bytes type

    std::string set_global;  // statements giving a global x the value 5
    std::string get_global;  // an expression reading x

    std::string error_type;         // the type name of the error define_fails raises
    std::string syntax_error;       // an expression that does not parse
    std::string die_file;           // a file: f() raises "boom" on line 2; line 4 calls f()
    std::string die_file_function;  // f as the language names it in a stack frame
    std::string syntax_error_file;  // a file whose line 2 does not parse (line 1 does)
    std::string clobber_globals;    // statements reassigning or deleting what the language lets
                                    // user code reassign of what the driver uses (functions,
                                    // methods, settings), then writing "after\n" to stdout by
                                    // means they left alone
    std::vector<std::string> language_globals;  // names of functions or objects the language has
    std::string undefined_function;           // a call expression of a function that does not exist
    std::vector<std::string> unserializable;  // expressions whose value JSON cannot carry
    std::string bytes_value;                  // an expression of the bytes 00 ff 41
    std::string infinite_loop;                // statements that never end

    // Runaway code, for limits and interrupt() (statements unless said otherwise):
    std::vector<std::string> runaway_loops;  // the language's idioms of a loop that never ends
    std::string swallowing_loop;  // loops forever, catching and ignoring the interrupt exception
    std::string memory_bomb;      // allocates memory without end
    std::string sleep_forever;    // sleeps (blocked in the kernel, using no CPU)
    std::string blocking_read;    // blocks reading a socket that never receives anything
    std::string output_flood;     // prints lines of 1000 "x" without end
    bool survives_memory_limit;   // the interpreter goes on after running out of memory
    Snippet read_file;            // an expression of a file's content; an error if unreadable
    Snippet write_file;           // statements writing "written" to a file (an error if it fails)
    Snippet can_connect;          // an expression: true if a TCP connection to 127.0.0.1:port works

    Snippet print_line;    // statements writing the text and a newline to stdout
    Snippet print_error;   // statements writing the text and a newline to stderr
    Snippet run_command;   // statements running a shell command line
    Snippet call_export;   // an expression calling a function with no arguments, by name
    std::string cwd;       // an expression of the working directory
    std::string pid;       // an expression of the interpreter's process id
    std::string exit_3;    // statements ending the interpreter at once with status 3
    Snippet env_variable;  // an expression of an environment variable's value

    // For the remote tests (ssh, sudo, sandboxes, proxies):
    std::string uid;             // an expression of the process's real user id
    Snippet string_literal;      // an expression of the text, as a string literal in the code
    std::string define_relay;    // relay(name, args...): calls the global function `name` with
                                 // the other arguments and returns its result
    std::string define_files;    // read_file(path): the file's text; write_file(path, text);
                                 // both raise an error when the file cannot be read or written
    std::string define_connect;  // try_connect(port): "connected" when a TCP connection to
                                 // 127.0.0.1:port opens, else the error's text

    // For remote objects (objects_test.cpp):
    std::string define_tally;   // class Tally: Tally(start); attribute count; add(n) adds n to
                                // count and returns it; total() returns count
    std::string new_tally;      // an expression: a Tally that starts at 5
    std::string tally_in_list;  // an expression: a list of a Tally that starts at 5, and 1
    std::string adder;          // an expression: a closure returning its argument + 1
    std::string subtracter;     // an expression: a closure (a, b) returning a - b
    std::string frozen;         // an expression: an object whose attribute x cannot be set
    std::string spinner;        // an expression: a closure of no arguments that never returns
    std::string define_users;   // use_tally(t): t.add(2); read_count(t): t's count attribute;
                                // apply_each(f, list): f(x) for each x, by the language's own
                                // idiom; sorted_with(list, cmp): sorted with comparator cmp;
                                // same(a, b): true when a and b are the very same object
    std::string define_keeper;  // watch(x): keeps a weak reference to x; watched_alive(): true
                                // while it is alive (after a garbage collection); keep(x):
                                // holds x in a global; forget(): drops it and collects garbage
};

// The registered languages whose entry of tests/languages.json says "shared_suites": false, which
// languages() leaves out (Pyodide: tests/pyodide).
std::vector<std::string> languages_outside_shared_suites();
const std::vector<Language>& languages();

// Runs `test` once per language, naming the language in any failure.
void for_each_language(const std::function<void(const Language&)>& test);

// Collects a bond's output as it arrives, in order, for tests to read.
struct OutputLog {
    std::vector<std::pair<bond::Channel, std::string>> chunks;
    std::function<void(bond::Channel, std::string_view)> sink() {
        return [this](bond::Channel channel, std::string_view text) {
            chunks.emplace_back(channel, std::string(text));
        };
    }
    std::string text(bond::Channel channel) const;
    std::string all() const;  // both channels, in arrival order
};

// A bond of `language` with a generous timeout (a guard against hangs, not a measure).
bond::Bond make_test_bond(const Language& language, bond::Options options = {});

// The pid of the host's process that ends with the interpreter: the interpreter's own, as its
// code reports it, or in a container (BOND_CONFORMANCE_CONTAINER, where its pid is one of the
// container's namespace) the container tool's, which ends with the container.
int interpreter_pid(bond::Bond& remote, const Language& language);

// Runs `run` (code that calls the export `started` of `remote`, then does not end by itself)
// while another thread calls remote.interrupt() once `started` has been called; rethrows what
// `run` threw, after that thread has ended.
void interrupt_once_started(bond::Bond& remote, const std::function<void()>& run);

// Whether eval_block(code) raises an exception in the remote code.
bool raises_remote(bond::Bond& remote, const std::string& code);

// A TCP port on the host's loopback that accepts connections (into its backlog).
struct LoopbackListener {
    LoopbackListener();
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener&) = delete;
    LoopbackListener& operator=(const LoopbackListener&) = delete;
    int fd;
    int port = 0;
};

}  // namespace conformance
