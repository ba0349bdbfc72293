#include "languages.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>

namespace conformance {
namespace {

std::string literal(const std::string& text) {
    return bond::Value(text).dump();
}

Language python() {
    return {
        .name = "Python",
        .aliases = {"python", "PYTHON", "python3", "Py"},
        .interpreter = "python3",
        .define_add = "def add(a, b):\n    return a + b\n",
        .define_ident = "def ident(x):\n    return x\n",
        .define_fails = "def fails():\n    raise ValueError('boom')\n",
        .define_down = "def down(n):\n    return 0 if n == 0 else up(n - 1) + 1\n",
        .define_catching =
            "def catching():\n"
            "    try:\n"
            "        thrower()\n"
            "    except Exception as error:\n"
            "        return str(error)\n",
        .define_is_bytes = "def is_bytes(x):\n    return isinstance(x, bytes)\n",
        .set_global = "x = 5",
        .get_global = "x",
        .error_type = "ValueError",
        .syntax_error = "1 +* 2",
        .undefined_function = "no_such_function(1)",
        .unserializable = {"open('/dev/null')", "lambda: 1", "object()", "{1, 2}", "float('nan')",
                           "'\\udc80'"},
        .bytes_value = "b'\\x00\\xffA'",
        .infinite_loop = "while True:\n    pass\n",
        .runaway_loops = {"while True:\n    pass\n", "while 1: pass\n"},
        .swallowing_loop =
            "while True:\n"
            "    try:\n"
            "        while True:\n"
            "            pass\n"
            "    except KeyboardInterrupt:\n"
            "        pass\n",
        .memory_bomb = "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n",
        .sleep_forever = "import time\ntime.sleep(1000)\n",
        .blocking_read = "import socket\nleft, right = socket.socketpair()\nleft.recv(1)\n",
        .output_flood = "while True:\n    print('x' * 1000)\n",
        .survives_memory_limit = true,
        .read_file = [](const std::string& path) { return "open(" + literal(path) + ").read()"; },
        .write_file =
            [](const std::string& path) {
                return "with open(" + literal(path) + ", 'w') as f:\n    f.write('written')\n";
            },
        .can_connect =
            [](const std::string& port) {
                return "__import__('socket').socket().connect_ex(('127.0.0.1', " + port + ")) == 0";
            },
        .print_line = [](const std::string& text) { return "print(" + literal(text) + ")"; },
        .print_error =
            [](const std::string& text) {
                return "import sys\nsys.stderr.write(" + literal(text + "\n") + ")";
            },
        .run_command =
            [](const std::string& command) {
                return "import os\nos.system(" + literal(command) + ")";
            },
        .call_export = [](const std::string& name) { return name + "()"; },
        .cwd = "__import__('os').getcwd()",
        .pid = "__import__('os').getpid()",
        .exit_3 = "import os\nos._exit(3)",
        .env_variable =
            [](const std::string& name) {
                return "__import__('os').environ.get(" + literal(name) + ")";
            },
        .uid = "__import__('os').getuid()",
        .string_literal = literal,
        .define_relay = "def relay(name, *args):\n    return globals()[name](*args)\n",
        .define_files =
            "def read_file(path):\n"
            "    with open(path) as file:\n"
            "        return file.read()\n"
            "def write_file(path, text):\n"
            "    with open(path, 'w') as file:\n"
            "        file.write(text)\n",
        .define_connect =
            "def try_connect(port):\n"
            "    import socket\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', port), timeout=60).close()\n"
            "        return 'connected'\n"
            "    except OSError as error:\n"
            "        return str(error)\n",
        .define_tally =
            "class Tally:\n"
            "    def __init__(self, start):\n"
            "        self.count = start\n"
            "    def add(self, n):\n"
            "        self.count += n\n"
            "        return self.count\n"
            "    def total(self):\n"
            "        return self.count\n",
        .new_tally = "Tally(5)",
        .tally_in_list = "[Tally(5), 1]",
        .adder = "lambda x: x + 1",
        .subtracter = "lambda a, b: a - b",
        .frozen = "object()",
        .spinner = "lambda: [None for _ in iter(int, 1) if False]",
        .define_users =
            "import functools\n"
            "def use_tally(t):\n"
            "    return t.add(2)\n"
            "def read_count(t):\n"
            "    return t.count\n"
            "def apply_each(f, items):\n"
            "    return [f(x) for x in items]\n"
            "def sorted_with(items, cmp):\n"
            "    return sorted(items, key=functools.cmp_to_key(cmp))\n"
            "def same(a, b):\n"
            "    return a is b\n",
        .define_keeper =
            "import gc, weakref\n"
            "watched = kept = None\n"
            "def watch(x):\n"
            "    global watched\n"
            "    watched = weakref.ref(x)\n"
            "def watched_alive():\n"
            "    gc.collect()\n"
            "    return watched() is not None\n"
            "def keep(x):\n"
            "    global kept\n"
            "    kept = x\n"
            "def forget():\n"
            "    global kept\n"
            "    kept = None\n"
            "    gc.collect()\n",
    };
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
    return {
        .name = "PHP",
        .aliases = {"php", "Php"},
        .interpreter = "php",
        .define_add = "function add($a, $b) { return $a + $b; }",
        .define_ident = "function ident($x) { return $x; }",
        .define_fails = "function fails() { throw new Exception('boom'); }",
        .define_down = "function down($n) { return $n == 0 ? 0 : up($n - 1) + 1; }",
        .define_catching =
            "function catching() {\n"
            "    try {\n"
            "        thrower();\n"
            "    } catch (Exception $e) {\n"
            "        return $e->getMessage();\n"
            "    }\n"
            "}\n",
        .define_is_bytes =
            "function is_bytes($x) {\n"
            "    return $x instanceof Bond\\Bytes || is_string($x) && !mb_check_encoding($x, "
            "'UTF-8');\n"
            "}\n",
        .set_global = "$x = 5;",
        .get_global = "$x",
        .error_type = "Exception",
        .syntax_error = "1 +* 2",
        .undefined_function = "no_such_function(1)",
        .unserializable = {"fopen('/dev/null', 'r')", "fn() => 1", "function () { return 1; }",
                           "NAN", "-INF", "[1, [NAN]]", "(function () { yield 1; })()"},
        .bytes_value = "\"\\x00\\xffA\"",
        .infinite_loop = "while (true) {}",
        .runaway_loops = {"while (1) {}", "for (;;) {}"},
        .swallowing_loop = "while (true) { try { while (true) {} } catch (\\Throwable $e) {} }",
        .memory_bomb = "$chunks = []; while (true) { $chunks[] = str_repeat('x', 1 << 20); }",
        .sleep_forever = "sleep(1000);",
        // stream_select: PHP's fread() on a socket resumes its wait after a signal, so only the
        // grace period's kill ends it (docs/limits.md).
        .blocking_read =
            "$pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);"
            " $read = [$pair[0]]; $none = null; stream_select($read, $none, $none, 1000);",
        .output_flood = "while (true) { echo str_repeat('x', 1000), \"\\n\"; }",
        .survives_memory_limit = false,  // running out of memory is a fatal error in PHP
        .read_file =
            [](const std::string& path) {
                return "(function ($p) { $c = file_get_contents($p); if ($c === false) throw new "
                       "Exception(\"cannot read $p\"); return $c; })(" +
                       php_literal(path) + ")";
            },
        .write_file =
            [](const std::string& path) {
                return "if (file_put_contents(" + php_literal(path) +
                       ", 'written') === false) throw new Exception('cannot write');";
            },
        .can_connect =
            [](const std::string& port) {
                return "(bool)@fsockopen('127.0.0.1', " + port + ", $errno, $error, 5)";
            },
        .print_line =
            [](const std::string& text) { return "echo " + php_literal(text) + " . \"\\n\";"; },
        .print_error =
            [](const std::string& text) {
                return "fwrite(STDERR, " + php_literal(text) + " . \"\\n\");";
            },
        .run_command =
            [](const std::string& command) { return "system(" + php_literal(command) + ");"; },
        // A statement as well as an expression: eval ignores a trailing ";".
        .call_export = [](const std::string& name) { return name + "();"; },
        .cwd = "getcwd()",
        .pid = "getmypid()",
        .exit_3 = "exit(3);",
        .env_variable =
            [](const std::string& name) {
                return "(getenv(" + php_literal(name) + ") === false ? null : getenv(" +
                       php_literal(name) + "))";
            },
        .uid = "posix_getuid()",
        .string_literal = php_literal,
        .define_relay = "function relay($name, ...$args) { return $name(...$args); }",
        .define_files =
            "function read_file($path) {\n"
            "    $text = @file_get_contents($path);\n"
            "    if ($text === false) throw new Exception(error_get_last()['message']);\n"
            "    return $text;\n"
            "}\n"
            "function write_file($path, $text) {\n"
            "    if (@file_put_contents($path, $text) === false)\n"
            "        throw new Exception(error_get_last()['message']);\n"
            "}\n",
        .define_connect =
            "function try_connect($port) {\n"
            "    $socket = @fsockopen('127.0.0.1', $port, $code, $message, 60);\n"
            "    if ($socket === false) return \"error $code: $message\";\n"
            "    fclose($socket);\n"
            "    return 'connected';\n"
            "}\n",
        .define_tally =
            "class Tally {\n"
            "    public $count;\n"
            "    public function __construct($start) { $this->count = $start; }\n"
            "    public function add($n) { $this->count += $n; return $this->count; }\n"
            "    public function total() { return $this->count; }\n"
            "}",
        .new_tally = "new Tally(5)",
        .tally_in_list = "[new Tally(5), 1]",
        .adder = "fn($x) => $x + 1",
        .subtracter = "fn($a, $b) => $a - $b",
        .frozen =
            "new class { public readonly int $x; public function __construct() { $this->x "
            "= 1; } }",
        .spinner = "function () { while (true) {} }",
        .define_users =
            "function use_tally($t) { return $t->add(2); }\n"
            "function read_count($t) { return $t->count; }\n"
            "function apply_each($f, $items) { return array_map($f, $items); }\n"
            "function sorted_with($items, $cmp) { usort($items, $cmp); return $items; }\n"
            "function same($a, $b) { return $a === $b; }",
        .define_keeper =
            "function watch($x) { $GLOBALS['watched'] = WeakReference::create($x); }\n"
            "function watched_alive() { gc_collect_cycles(); return $GLOBALS['watched']->get() "
            "!== null; }\n"
            "function keep($x) { $GLOBALS['kept'] = $x; }\n"
            "function forget() { $GLOBALS['kept'] = null; gc_collect_cycles(); }",
    };
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
    return {
        .name = "Perl",
        .aliases = {"perl", "PERL"},
        .interpreter = "perl",
        .define_add = "sub add { my ($p, $q) = @_; return $p + $q }",
        .define_ident = "sub ident { return $_[0] }",
        .define_fails = "sub fails { die \"boom\\n\" }",
        .define_down = "sub down { my ($n) = @_; return $n == 0 ? 0 : up($n - 1) + 1 }",
        .define_catching =
            "sub catching {\n"
            "    eval { thrower(); 1 } or do { return \"$@\" };\n"
            "}\n",
        // Bond::Bytes holds bytes that are valid UTF-8; other bytes are byte strings that are
        // not valid UTF-8. The driver loads no Encode (nor POSIX): user code loads what it uses.
        .define_is_bytes =
            "use Encode ();\n"
            "sub is_bytes {\n"
            "    my ($x) = @_;\n"
            "    return !!(ref $x eq 'Bond::Bytes' || defined $x && !ref $x && !utf8::is_utf8($x)\n"
            "        && !defined eval { Encode::decode('UTF-8', $x, Encode::FB_CROAK) });\n"
            "}\n",
        .set_global = "our $x = 5;",
        .get_global = "$x",
        .error_type = "die",
        .syntax_error = "1 + ;",
        .undefined_function = "no_such_function(1)",
        .unserializable = {"sub { 1 }", "\\*STDOUT", "*STDOUT",
                           "do { open(my $fh, '<', '/dev/null'); $fh }", "9**9**9", "-9**9**9",
                           "[1, [9**9**9 - 9**9**9]]", "\"\\x{D800}\""},
        .bytes_value = "\"\\x00\\xffA\"",
        .infinite_loop = "1 while 1;",
        .runaway_loops = {"1 while 1;", "for (;;) {}", "while (1) {}"},
        .swallowing_loop = "while (1) { eval { 1 while 1 }; }",
        .memory_bomb = "my @chunks; push @chunks, 'x' x (1 << 20) while 1;",
        .sleep_forever = "sleep 1000;",
        .blocking_read =
            "use Socket; socketpair(my $left, my $right, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die;"
            " sysread($left, my $buffer, 1);",
        .output_flood = "print 'x' x 1000, \"\\n\" while 1;",
        .survives_memory_limit = false,  // perl exits on "Out of memory!"
        .read_file =
            [](const std::string& path) {
                return "do { open(my $f, '<', " + perl_literal(path) +
                       ") or die \"cannot read: $!\\n\"; local $/; <$f> }";
            },
        .write_file =
            [](const std::string& path) {
                return "open(my $f, '>', " + perl_literal(path) +
                       ") or die \"cannot write: $!\\n\"; print $f 'written'; close $f;";
            },
        .can_connect =
            [](const std::string& port) {
                return "do { require IO::Socket::INET; IO::Socket::INET->new(PeerAddr => "
                       "'127.0.0.1', PeerPort => " +
                       port + ", Timeout => 5) ? !!1 : !!0 }";
            },
        .print_line =
            [](const std::string& text) { return "print " + perl_literal(text) + ", \"\\n\";"; },
        .print_error =
            [](const std::string& text) {
                return "print STDERR " + perl_literal(text) + ", \"\\n\";";
            },
        .run_command =
            [](const std::string& command) { return "system(" + perl_literal(command) + ");"; },
        // A statement as well as an expression.
        .call_export = [](const std::string& name) { return name + "();"; },
        .cwd = "do { require Cwd; Cwd::getcwd() }",
        .pid = "$$",
        .exit_3 = "require POSIX; POSIX::_exit(3);",
        .env_variable = [](const std::string& name) { return "$ENV{" + perl_literal(name) + "}"; },
        .uid = "$<",
        .string_literal = perl_literal,
        .define_relay =
            "sub relay { my $name = shift; no strict 'refs'; return &{\"main::$name\"}(@_) }",
        .define_files =
            "sub read_file {\n"
            "    my ($path) = @_;\n"
            "    open(my $file, '<', $path) or die \"cannot read $path: $!\\n\";\n"
            "    local $/;\n"
            "    return scalar <$file>;\n"
            "}\n"
            "sub write_file {\n"
            "    my ($path, $text) = @_;\n"
            "    open(my $file, '>', $path) or die \"cannot write $path: $!\\n\";\n"
            "    print $file $text;\n"
            "    close($file) or die \"cannot write $path: $!\\n\";\n"
            "    return;\n"
            "}\n",
        .define_connect =
            "sub try_connect {\n"
            "    my ($port) = @_;\n"
            "    require IO::Socket::INET;\n"
            "    my $socket = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,\n"
            "        Proto => 'tcp', Timeout => 60);\n"
            "    return $socket ? 'connected' : \"error: $@\";\n"
            "}\n",
        .define_tally =
            "package Tally;\n"
            "sub new { my ($class, $start) = @_; return bless { count => $start }, $class }\n"
            "sub add { my ($self, $n) = @_; $self->{count} += $n; return $self->{count} }\n"
            "sub total { return $_[0]{count} }\n"
            "package main;\n",
        .new_tally = "Tally->new(5)",
        .tally_in_list = "[Tally->new(5), 1]",
        .adder = "sub { $_[0] + 1 }",
        .subtracter = "sub { $_[0] - $_[1] }",
        // lock_hashref: a lock_hash loaded at run time has lost its prototype.
        .frozen =
            "do { require Hash::Util; my $h = bless { x => 1 }, 'Frozen'; "
            "Hash::Util::lock_hashref($h); $h }",
        .spinner = "sub { 1 while 1 }",
        .define_users =
            "use Scalar::Util ();\n"
            "sub use_tally { my ($t) = @_; return $t->add(2) }\n"
            "sub read_count { my ($t) = @_; return $t->{count} }\n"
            "sub apply_each { my ($f, $items) = @_; return [map { $f->($_) } @$items] }\n"
            "sub sorted_with { my ($items, $cmp) = @_; return [sort { $cmp->($a, $b) } @$items] }\n"
            "sub same { return Scalar::Util::refaddr($_[0]) == Scalar::Util::refaddr($_[1]) "
            "? 1 : 0 }\n",
        .define_keeper =
            "use Scalar::Util ();\n"
            "our ($watched, $kept);\n"
            "sub watch { $watched = $_[0]; Scalar::Util::weaken($watched); return }\n"
            "sub watched_alive { return defined $watched ? 1 : 0 }\n"
            "sub keep { $kept = $_[0]; return }\n"
            "sub forget { $kept = undef; return }\n",
    };
}

// JSON's string literals are JavaScript's.
Language javascript() {
    return {
        .name = "JavaScript",
        .aliases = {"js", "node", "nodejs", "JAVASCRIPT", "Node"},
        .interpreter = "node",
        // Integers beyond 53 bits arrive as BigInt, which does not mix with Number.
        .define_add =
            "function add(a, b) {\n"
            "    return typeof a === 'bigint' || typeof b === 'bigint' ? BigInt(a) + BigInt(b) : a "
            "+ b;\n"
            "}\n",
        .define_ident = "function ident(x) { return x; }",
        .define_fails = "function fails() { throw new Error('boom'); }",
        .define_down = "function down(n) { return n === 0 ? 0 : up(n - 1) + 1; }",
        .define_catching =
            "function catching() {\n"
            "    try {\n"
            "        thrower();\n"
            "    } catch (error) {\n"
            "        return error.message;\n"
            "    }\n"
            "}\n",
        .define_is_bytes = "function is_bytes(x) { return Buffer.isBuffer(x); }",
        .set_global = "var x = 5;",
        .get_global = "x",
        .error_type = "Error",
        .syntax_error = "1 +* 2",
        .undefined_function = "no_such_function(1)",
        .unserializable = {"() => 1", "Symbol('s')", "NaN", "-Infinity", "[1, [NaN]]", "2n ** 64n",
                           "(() => { const o = {}; o.self = o; return o; })()", "new Map([[1, 2]])",
                           "'\\udc80'", "({f: Math.max})"},
        .bytes_value = "Buffer.from([0, 255, 65])",
        .infinite_loop = "for (;;) {}",
        .runaway_loops = {"for (;;) {}", "while (true) {}", "while (1);", "do {} while (true);"},
        // JavaScript cannot catch the interrupt (V8 ends the script), so no loop swallows it; what
        // no in-process interrupt ends is a wait in native code, such as for a child process.
        .swallowing_loop = "require('child_process').execSync('sleep 1000');",
        .memory_bomb =
            "{\n    const chunks = [];\n    for (;;) chunks.push(Buffer.alloc(1 << 20));\n}",
        // JavaScript sleeps and reads by awaiting.
        .sleep_forever = "await new Promise((resolve) => setTimeout(resolve, 1e9));",
        .blocking_read =
            "await new Promise((resolve) => {\n"
            "    const net = require('net');\n"
            "    const server = net.createServer((socket) => socket.on('data', resolve));\n"
            "    server.listen(0, '127.0.0.1', () => net.connect(server.address().port, "
            "'127.0.0.1'));\n"
            "});",
        .output_flood = "for (;;) console.log('x'.repeat(1000));",
        .survives_memory_limit = true,
        .read_file =
            [](const std::string& path) {
                return "require('fs').readFileSync(" + literal(path) + ", 'utf8')";
            },
        .write_file =
            [](const std::string& path) {
                return "require('fs').writeFileSync(" + literal(path) + ", 'written');";
            },
        .can_connect =
            [](const std::string& port) {
                return "await new Promise((resolve) => {\n"
                       "    const socket = require('net').connect(" +
                       port +
                       ", '127.0.0.1');\n"
                       "    socket.on('connect', () => { socket.destroy(); resolve(true); });\n"
                       "    socket.on('error', () => resolve(false));\n"
                       "})";
            },
        .print_line = [](const std::string& text) { return "console.log(" + literal(text) + ");"; },
        .print_error =
            [](const std::string& text) { return "console.error(" + literal(text) + ");"; },
        .run_command =
            [](const std::string& command) {
                return "require('child_process').execSync(" + literal(command) +
                       ", {stdio: 'inherit'});";
            },
        .call_export = [](const std::string& name) { return name + "()"; },
        .cwd = "process.cwd()",
        .pid = "process.pid",
        .exit_3 = "process.exit(3);",
        .env_variable =
            [](const std::string& name) { return "process.env[" + literal(name) + "] ?? null"; },
        .uid = "process.getuid()",
        .string_literal = literal,
        .define_relay = "function relay(name, ...args) { return globalThis[name](...args); }",
        .define_files =
            "function read_file(path) { return require('fs').readFileSync(path, 'utf8'); }\n"
            "function write_file(path, text) { require('fs').writeFileSync(path, text); }\n",
        // A Promise: the driver waits for it.
        .define_connect =
            "function try_connect(port) {\n"
            "    return new Promise((resolve) => {\n"
            "        const socket = require('net').connect({host: '127.0.0.1', port}, () => {\n"
            "            socket.destroy();\n"
            "            resolve('connected');\n"
            "        });\n"
            "        socket.setTimeout(60000, () => socket.destroy(new Error('timed out')));\n"
            "        socket.on('error', (error) => resolve(error.message));\n"
            "    });\n"
            "}\n",
        .define_tally =
            "class Tally {\n"
            "    constructor(start) { this.count = start; }\n"
            "    add(n) { this.count += n; return this.count; }\n"
            "    total() { return this.count; }\n"
            "}\n"
            "globalThis.Tally = Tally;\n",
        .new_tally = "new Tally(5)",
        .tally_in_list = "[new Tally(5), 1]",
        .adder = "(x) => x + 1",
        .subtracter = "(a, b) => a - b",
        .frozen = "Object.freeze(new (class Frozen { constructor() { this.x = 1; } })())",
        .spinner = "() => { for (;;) {} }",
        .define_users =
            "function use_tally(t) { return t.add(2); }\n"
            "function read_count(t) { return t.count; }\n"
            "function apply_each(f, items) { return items.map((x) => f(x)); }\n"
            "function sorted_with(items, cmp) { return [...items].sort(cmp); }\n"
            "function same(a, b) { return a === b; }\n",
        // V8 collects only when asked with --expose-gc, which can be switched on at run time.
        .define_keeper =
            "require('v8').setFlagsFromString('--expose-gc');\n"
            "globalThis.collectGarbage = require('vm').runInNewContext('gc');\n"
            "globalThis.watched = null; globalThis.kept = null;\n"
            "function watch(x) { watched = new WeakRef(x); }\n"
            "function watched_alive() { collectGarbage(); return watched.deref() !== undefined; }\n"
            "function keep(x) { kept = x; }\n"
            "function forget() { kept = null; collectGarbage(); }\n",
    };
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

}  // namespace conformance
