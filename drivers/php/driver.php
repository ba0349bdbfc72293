<?php
// The bond driver for PHP: speaks the protocol of docs/protocol.md with the host over the
// process's original stdin/stdout. The host starts `php -a` and sends one line that decodes this
// file and evals it: everything lives in the namespace Bond, in classes, so that user code, which
// runs at the global scope, sees none of the driver's variables. PHP has no dup()/dup2(), so the
// driver calls libc through the bundled FFI extension to move the protocol to private descriptors.
namespace Bond {

// PHP's functions that the driver calls, bound to PHP's own at compile time: an unqualified call
// in namespace Bond would otherwise look for Bond\name first, which user code could declare.
use function array_filter, array_is_list, array_key_exists, array_keys, array_pop, array_shift,
    array_values, base64_decode, base64_encode, bin2hex, class_exists, count, define, defined,
    end, error_get_last, error_reporting, explode, fopen, function_exists, fwrite, get_class,
    get_debug_type, get_defined_vars, get_object_vars, getenv, iconv, implode, in_array,
    ini_get, ini_set, interface_exists, is_array, is_bool, is_callable, is_file, is_finite,
    is_float, is_int, is_object, is_string, json_decode, json_encode, key, ltrim, mb_scrub,
    memory_get_usage, method_exists, ob_end_clean, ob_get_status, ob_start, pcntl_async_signals,
    pcntl_signal, posix_getpid, posix_getpwuid, posix_getuid, posix_kill, preg_match,
    preg_quote, preg_replace, preg_replace_callback, property_exists, random_bytes,
    readline_add_history, readline_clear_history, readline_list_history, readline_write_history,
    register_shutdown_function, reset, rtrim, set_error_handler, set_time_limit, str_contains,
    str_replace, str_starts_with, strcmp, strlen, strpos, strtolower, substr, token_get_all,
    trait_exists, trigger_error, trim;

/** An error of the host: an exported C++ function threw, or it was called wrongly. */
class BondError extends \RuntimeException
{
}

/**
 * Bytes from the host that happen to be valid UTF-8 (the empty string included). Bytes that are
 * not valid UTF-8 arrive as ordinary PHP strings, and go back as bytes; these would go back as
 * text, so they keep a type of their own. (string)$bytes or $bytes->bytes gives the string.
 */
final class Bytes implements \Stringable
{
    public function __construct(public readonly string $bytes)
    {
    }

    public function __toString(): string
    {
        return $this->bytes;
    }
}

/** An integer from the host beyond PHP's int (above PHP_INT_MAX): its decimal digits. */
final class BigInt implements \Stringable
{
    public function __construct(public readonly string $digits)
    {
    }

    public function __toString(): string
    {
        return $this->digits;
    }
}

/**
 * Raised in code the host stops: Bond::interrupt(), or a limit ($limit names it: "cpu"). An
 * \Error, so that `catch (Exception $e)` does not swallow it.
 */
final class Interrupted extends \Error
{
    public function __construct(string $message, public readonly ?string $limit = null)
    {
        parent::__construct($message);
    }
}

/** A value that JSON cannot carry. */
final class SerializationError extends \Exception
{
}

/** Invalid params of a request (-32602). */
final class InvalidParams extends \Exception
{
}

/**
 * @internal A tag of an incoming value that needs more than decoding: {"$code": S} (evaluated)
 * or {"$yours": N} (an entry of the driver's table). Decoding leaves these in the value; the
 * request that got it replaces them (Driver::resolve) where an error can be its reply.
 */
final class Tag
{
    public function __construct(public readonly bool $code, public readonly string|int $payload)
    {
    }
}

/**
 * A proxy of an object the host holds (`{"$obj": N, "type": T}`): what code does with it goes to
 * the host as a request, and from the host to the object's owner. $p->m(...) is `invoke`,
 * $p(...) (usort, array_map: any callable) is `invoke` of the object itself, $p->name is `get`,
 * $p->name = v is `set`; isset($p->name) is a `get` that answers something not null. Sent back
 * to the host it is {"$yours": N}: the owner gets its own object. Collected, it tells the host
 * (a `release` before the driver's next message). It has no methods or properties of its own
 * that code can reach, so every name is the owner's.
 */
final class Proxy
{
    private ?int $id = null;  // null: not made by the driver (it releases nothing)
    private string $type = '';

    private function __construct()
    {
    }

    public function __call(string $name, array $args): mixed
    {
        return Driver::proxyRequest($this->id, $this->type, 'invoke', $name, $args);
    }

    public function __invoke(mixed ...$args): mixed
    {
        return Driver::proxyRequest($this->id, $this->type, 'invoke', null, $args);
    }

    public function __get(string $name): mixed
    {
        return Driver::proxyRequest($this->id, $this->type, 'get', $name);
    }

    public function __set(string $name, mixed $value): void
    {
        Driver::proxyRequest($this->id, $this->type, 'set', $name, $value);
    }

    public function __isset(string $name): bool
    {
        try {
            return Driver::proxyRequest($this->id, $this->type, 'get', $name) !== null;
        } catch (BondError $error) {
            return false;  // as isset() of a property that cannot be read
        }
    }

    public function __unset(string $name): void
    {
        throw new \Error("Cannot unset property $name of $this");
    }

    public function __toString(): string
    {
        return "<bond proxy of {$this->type} #{$this->id}>";
    }

    public function __debugInfo(): array
    {
        return ['object' => $this->id, 'type' => $this->type];
    }

    public function __destruct()
    {
        if ($this->id !== null) {
            Driver::queueRelease($this->id);
        }
    }

    // Two proxies of one number would release it twice.
    private function __clone()
    {
    }

    public function __serialize(): array
    {
        throw new \Exception("Serialization of $this is not allowed");
    }

    public function __unserialize(array $data): void
    {
        throw new \Exception('Unserialization of ' . self::class . ' is not allowed');
    }
}

/**
 * Runs user code at the real global scope: every global is bound by reference into this
 * function's scope, the code runs, and the variables it created or unset are carried back. The
 * function has no variables of its own (its state lives in static properties), so user code sees
 * exactly the globals.
 */
final class Scope
{
    public static array $codes = [];
    public static array $names = [];
    public static int $i = 0;
    public static array $bound = [];
    public static array $locals = [];
    private const SUPERGLOBALS = ['GLOBALS' => 1, '_GET' => 1, '_POST' => 1, '_COOKIE' => 1,
        '_FILES' => 1, '_SERVER' => 1, '_ENV' => 1, '_REQUEST' => 1, '_SESSION' => 1];

    public static function run(string $code): mixed
    {
        self::$codes[] = $code;
        return \__bond_global_scope();
    }

    public static function bindable(): array
    {
        return array_values(array_filter(array_keys($GLOBALS), fn($name) =>
            is_string($name) && !isset(self::SUPERGLOBALS[$name])));
    }

    public static function isSuperglobal(string $name): bool
    {
        return isset(self::SUPERGLOBALS[$name]);
    }
}

final class Driver
{
    // --- State -----------------------------------------------------------------------------------
    // The driver's own state: constants and static members of this class, which user code (run at
    // the global scope, see Scope) never sees.
    private const PROTOCOL_VERSION = 1;
    private const STDERR_READY_MARK = "\n__bond_driver_ready__\n";
    private const F_DUPFD_CLOEXEC = 1030;
    private const MFD_CLOEXEC = 1;
    private const FALLOC_PUNCH_HOLE = 3;  // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    private const EINTR = 4;
    private const JSON_FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES |
        JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;
    private const FATAL = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR |
        E_RECOVERABLE_ERROR;
    private const F_GETFL = 3;
    private const F_SETFL = 4;
    private const F_SETOWN = 8;
    private const O_ASYNC = 0x2000;
    private const CLOCK_PROCESS_CPUTIME_ID = 2;
    private const POLLIN = 1;
    private const OUTPUT_HANDLER_DISABLED = 0x2000;  // PHP_OUTPUT_HANDLER_DISABLED
    private const READ_SIZE = 1048576;
    private const MAX_DEPTH = 10000;  // of a value sent: deeper is taken for a reference cycle
    private const PROT_READ_WRITE = 3;
    private const MAP_PRIVATE_ANONYMOUS = 0x22;
    private const MADV_WIPEONFORK = 18;

    private static \FFI $libc;
    private static int $protocolIn;
    private static int $protocolOut;
    private static int $originalStderr;
    /** @var array<string, array{int, int}> channel => [memfd, read position] */
    private static array $outputFiles = [];
    private static \FFI\CData $readBuffer;
    private static string $inBuffer = '';
    private static int $scanned = 0;
    private static bool $trans_except = false;
    private static int $nextRequestId = 0;
    /** @var int[] ids of the host's requests being served, innermost last */
    private static array $serving = [];
    private static int $pid;
    /** @var \FFI\CData|null 1 here, 0 in a forked child */
    private static ?\FFI\CData $forkMark = null;
    private static string $nonce;
    private static bool $bigints = false;
    /** @var array<string, string> lower-case name => exported name */
    private static array $exports = [];
    // Where errors say user code is (see stack): PHP names all code Scope runs by the line of
    // the driver's eval (userFile); errors say instead the file eval_block was given (codeFile,
    // php -r's name when none), or for code in a function or class the file that declared it.
    private const NO_FILE = 'Command line code';
    private static string $userFile = '';
    private static string $codeFile = self::NO_FILE;
    private static array $declaredIn = [];  // "f:name" or "c:class" (lower case) => file
    private static bool $sending = false;

    // Objects (docs/protocol.md, Objects). The table holds what the driver sent as {"$obj": N}
    // until the host releases N; numbers are never reused. A proxy of a host's object queues its
    // number when PHP destroys it, for a `release` before the driver's next message.
    private const HOLD = 0;  // an object JSON has no word for goes to the table
    private const COPY = 1;  // the same, but an object with properties is sent as them (get null)
    private const REFUSE = 2;  // a SerializationError instead, and objects as their properties
    /** @var array<int, mixed> number => the value held */
    private static array $objects = [];
    private static int $lastObject = 0;
    /** @var int[]|null numbers held by the value being encoded: dropped when it fails */
    private static ?array $heldNow = null;
    /** @var int[] numbers of the host's objects whose proxies were destroyed */
    private static array $releases = [];
    private static bool $tagged = false;  // the line loads() decoded holds Tags
    private static \Closure $makeProxy;
    /** @var \WeakReference[] number => its Proxy: one per number (proxyOf) */
    private static array $proxies = [];
    private static \Closure $proxyNumber;

    /** @var array{int, string, ?string}|null the request to stop, why, and the limit */
    private static ?array $stop = null;
    private static bool $stopRaised = false;  // once: code that swallows it is killed by the host
    private static bool $userCode = false;
    private static bool $inputArrived = false;  // SIGIO came while the driver could not read
    private static ?\FFI\CData $pollInput = null;  // a pollfd of the input, for poll()
    private static bool $canWatch = false;  // pcntl's async signals are there
    private static bool $watching = false;  // the input's owner is this process: SIGIO on input
    private static bool $handlerBroken = false;  // the output handler threw: PHP disabled it
    /** @var array{id?: int, cpu?: float, memory?: int} the running operation's limits */
    private static array $limits = [];
    private static int $memoryBaseline = 0;
    private static string $memoryLimit = '-1';
    private static ?\FFI\CData $cpuTimer = null;  // a CLOCK_PROCESS_CPUTIME_ID timer: SIGXCPU
    /** @var string[] notifications a signal handler could not send halfway through a message */
    private static array $pendingNotifications = [];

    // --- Channels and output ---------------------------------------------------------------------
    // The protocol moves to private copies of fd 0, 1 and 2 (close-on-exec: child processes do
    // not inherit them). fd 0 becomes /dev/null, so user code that reads stdin gets end-of-file.
    // fd 1 and 2 become memory files (memfd) that the driver reads before each message it sends:
    // output written at the descriptor level, by PHP's STDOUT/STDERR streams or by child
    // processes, becomes output messages. A file never fills up, so no writer can ever block on
    // it, although PHP has no thread to drain a pipe while user code runs.
    private static function openChannels(): void
    {
        self::$libc = \FFI::cdef('
            int fcntl(int fd, int cmd, ...);
            int dup2(int oldfd, int newfd);
            int open(const char *path, int flags);
            int close(int fd);
            long read(int fd, char *buf, unsigned long count);
            long write(int fd, const char *buf, unsigned long count);
            long pread(int fd, char *buf, unsigned long count, long offset);
            int memfd_create(const char *name, unsigned int flags);
            int fallocate(int fd, int mode, long offset, long len);
            int *__errno_location(void);
            int getpid(void);
            void _exit(int status);
            struct bond_timespec { long tv_sec; long tv_nsec; };
            struct bond_itimerspec { struct bond_timespec it_interval; struct bond_timespec it_value; };
            struct bond_sigevent { void *value; int signo; int notify; int pad[12]; };
            int timer_create(int clock, struct bond_sigevent *event, void **timer);
            int timer_settime(void *timer, int flags, const struct bond_itimerspec *value,
                              struct bond_itimerspec *old);
            struct bond_pollfd { int fd; short events; short revents; };
            int poll(struct bond_pollfd *fds, unsigned long nfds, int timeout);
            void *mmap(void *addr, unsigned long length, int prot, int flags, int fd, long offset);
            int madvise(void *addr, unsigned long length, int advice);
        ');
        $c = self::$libc;
        self::$protocolIn = self::check($c->fcntl(0, self::F_DUPFD_CLOEXEC, 3), 'dup stdin');
        self::$protocolOut = self::check($c->fcntl(1, self::F_DUPFD_CLOEXEC, 3), 'dup stdout');
        self::$originalStderr = self::check($c->fcntl(2, self::F_DUPFD_CLOEXEC, 3), 'dup stderr');
        $null = self::check($c->open('/dev/null', 0), 'open /dev/null');
        self::check($c->dup2($null, 0), 'dup2');
        $c->close($null);
        foreach (['stdout' => 1, 'stderr' => 2] as $channel => $fd) {
            $file = self::check($c->memfd_create("bond-$channel", self::MFD_CLOEXEC), 'memfd');
            self::check($c->dup2($file, $fd), 'dup2');
            self::$outputFiles[$channel] = [$file, 0];
        }
        // Larger than a pipe read needs: without it each 1 MiB payload faults in a fresh 2 MiB
        // chunk of the Zend heap (240 page faults more per call, measured).
        self::$readBuffer = \FFI::new('char[' . self::READ_SIZE . ']', false);
        self::$pid = $c->getpid();
        // Asked before every message, without a system call: a forked child gets this page
        // zeroed (MADV_WIPEONFORK). Where that is missing, getpid() answers.
        $page = $c->mmap(null, 4096, self::PROT_READ_WRITE, self::MAP_PRIVATE_ANONYMOUS, -1, 0);
        if ($c->madvise($page, 4096, self::MADV_WIPEONFORK) === 0) {
            self::$forkMark = \FFI::cast('unsigned char *', $page);
            self::$forkMark[0] = 1;
        }
        // php -a defines no STDIN/STDOUT/STDERR: user code expects them, on fd 0, 1 and 2.
        // Plain streams on the descriptors, not filtered ones, so that proc_open can hand them
        // to child processes (proc_open($command, [1 => STDOUT, 2 => STDERR], $pipes)).
        foreach (['STDIN' => ['php://stdin', 'r'], 'STDOUT' => ['php://stdout', 'w'],
                  'STDERR' => ['php://stderr', 'w']] as $name => [$path, $mode]) {
            if (!defined($name)) {
                define($name, fopen($path, $mode));
            }
        }
    }

    private static function check(int $result, string $what): int
    {
        if ($result < 0) {
            throw new \RuntimeException("bond driver: $what failed, errno " . self::errno());
        }
        return $result;
    }

    private static function errno(): int
    {
        return self::$libc->__errno_location()[0];
    }

    private static function writeAll(int $fd, string $data): void
    {
        $length = strlen($data);
        $offset = 0;
        while ($offset < $length) {
            $chunk = $offset ? substr($data, $offset) : $data;
            $written = self::$libc->write($fd, $chunk, $length - $offset);
            if ($written < 0) {
                if (self::errno() === self::EINTR) {
                    continue;
                }
                throw new \RuntimeException('bond driver: the protocol channel is gone');
            }
            $offset += $written;
        }
    }

    /** Forwards what the output files hold that was not forwarded yet. */
    private static function drainOutputFiles(): void
    {
        foreach (self::$outputFiles as $channel => [$file, $position]) {
            $start = $position;
            $data = '';
            while (($n = self::$libc->pread($file, self::$readBuffer, self::READ_SIZE,
                    $position)) > 0) {
                $data .= \FFI::string(self::$readBuffer, $n);
                $position += $n;
            }
            if ($data !== '') {
                self::$outputFiles[$channel][1] = $position;
                self::writeAll(self::$protocolOut, self::outputLine($channel, $data));
                // Give the memory back; offsets stay as they are.
                self::$libc->fallocate($file, self::FALLOC_PUNCH_HOLE, 0, $position);
            }
        }
    }

    private static function outputLine(string $channel, string $data): string
    {
        $payload = preg_match('//u', $data) ? $data : ['$bytes' => base64_encode($data)];
        return json_encode(['jsonrpc' => '2.0', 'method' => 'output',
            'params' => ['channel' => $channel, 'data' => $payload]], self::JSON_FLAGS) . "\n";
    }

    /** Whether this is the driver's process, not one forked by user code (pcntl_fork). */
    private static function inDriverProcess(): bool
    {
        return self::$forkMark !== null ? self::$forkMark[0] === 1
            : self::$libc->getpid() === self::$pid;
    }

    /** The output handler at the bottom of PHP's output buffers: echo, print, printf... */
    public static function onOutput(string $buffer, int $phase): string
    {
        // Code that prints in a loop stops here. Throwing from an output handler disables it:
        // the output goes to descriptor 1, still forwarded, and the request's end restores it.
        try {
            self::stopAtSafePoint();
            return self::forward('stdout', $buffer) ? '' : $buffer;
        } catch (\Throwable $error) {
            self::$handlerBroken = true;
            throw $error;
        }
    }

    /**
     * Sends output of PHP code as a message, after what the descriptors hold; false when it
     * cannot (a forked child, output while a message is written): it goes to descriptor 1.
     */
    private static function forward(string $channel, string $data): bool
    {
        if ($data === '') {
            return true;
        }
        if (!self::inDriverProcess() || self::$sending) {
            return false;
        }
        $userCode = self::$userCode;
        self::$sending = true;
        self::$userCode = false;
        try {
            self::drainOutputFiles();
            self::sendReleases();
            self::writeAll(self::$protocolOut, self::outputLine($channel, $data));
        } finally {
            self::$sending = false;
            self::$userCode = $userCode;
        }
        // A stop that came while this was written could not be raised: the signal again makes
        // the user code that follows (a sleep, say) stop at its next tick.
        if ($userCode && function_exists('posix_kill') &&
            (self::$inputArrived || self::$stop !== null && !self::$stopRaised)) {
            posix_kill(self::$pid, SIGIO);
        }
        return true;
    }

    /**
     * A process forked by user code (pcntl_fork) that comes back into the driver instead of
     * exiting must not speak on the protocol channel, nor read it: it ends as a script would.
     */
    private static function leaveForkedProcess(): void
    {
        if (!self::inDriverProcess()) {
            exit(0);
        }
    }

    private static function sendLine(string $line): void
    {
        self::leaveForkedProcess();
        $userCode = self::$userCode;
        self::$sending = true;
        self::$userCode = false;
        try {
            self::drainOutputFiles();
            while (self::$pendingNotifications) {
                self::writeAll(self::$protocolOut, array_shift(self::$pendingNotifications));
            }
            self::sendReleases();
            self::writeAll(self::$protocolOut, $line);
        } finally {
            self::$sending = false;
            self::$userCode = $userCode;
        }
    }

    /**
     * The release notification of the proxies destroyed since the last message. (A destructor
     * that runs meanwhile, as the cycle collector may, only queues: the loop sends it too.)
     */
    private static function sendReleases(): void
    {
        while (self::$releases) {
            $numbers = self::$releases;
            self::$releases = [];
            self::writeAll(self::$protocolOut, '{"jsonrpc":"2.0","method":"release","params":' .
                '{"objects":[' . implode(',', $numbers) . "]}}\n");
        }
    }

    /**
     * The proxy of the host's object $number: one per number, so that an object the host sends
     * twice in one message is one proxy here (=== holds).
     */
    private static function proxyOf(int $number, string $type): Proxy
    {
        $known = isset(self::$proxies[$number]) ? self::$proxies[$number]->get() : null;
        if ($known !== null) {
            return $known;
        }
        $proxy = (self::$makeProxy)($number, $type);
        self::$proxies[$number] = \WeakReference::create($proxy);
        return $proxy;
    }

    /** Proxy::__destruct: the host's object N is not used here any more. */
    public static function queueRelease(int $number): void
    {
        unset(self::$proxies[$number]);
        if (self::inDriverProcess()) {
            self::$releases[] = $number;
        }
    }

    /** Code that was stopped while printing left the driver's output handler disabled. */
    private static function restoreOutputHandler(): void
    {
        self::$handlerBroken = false;
        $handlers = ob_get_status(true);
        if (count($handlers) === 1 && ($handlers[0]['flags'] & self::OUTPUT_HANDLER_DISABLED)) {
            ob_end_clean();
            ob_start([self::class, 'onOutput'], 1);
        }
    }

    // --- Values ----------------------------------------------------------------------------------
    /**
     * A PHP value as what json_encode turns into the protocol's JSON. What JSON has no word for
     * (objects, closures, generators, resources, pure enum cases) goes to the table and is sent
     * as {"$obj": N, "type": T} (HOLD), a proxy as {"$yours": N}; stdClass, JsonSerializable,
     * backed enums, Bytes and BigInt are values. COPY sends any object that has properties as
     * them; REFUSE too, and what has none is a SerializationError, as nothing is held.
     */
    private static function prepare(mixed $value, int $mode, int $depth = 0): mixed
    {
        if ($depth > self::MAX_DEPTH) {
            throw new SerializationError('the value is nested too deeply (a reference cycle?)');
        }
        switch (true) {
            case $value === null || is_bool($value) || is_int($value):
                return $value;
            case is_float($value):
                if (!is_finite($value)) {
                    throw new SerializationError("$value cannot be sent: JSON has no NaN or infinity");
                }
                return $value;
            case is_string($value):
                return preg_match('//u', $value) ? $value : ['$bytes' => base64_encode($value)];
            case is_array($value):
                $list = array_is_list($value);
                $prepared = [];
                foreach ($value as $key => $item) {
                    $prepared[$key] = self::prepare($item, $mode, $depth + 1);
                }
                return $list || $prepared ? $prepared : new \stdClass();
            case $value instanceof Bytes:
                return ['$bytes' => base64_encode($value->bytes)];
            case $value instanceof BigInt:
                self::$bigints = true;
                return self::$nonce . $value->digits;
            case $value instanceof Proxy:
                if ($mode === self::REFUSE) {
                    throw new SerializationError("$value cannot be sent here");
                }
                return ['$yours' => (self::$proxyNumber)($value)];
            case $value instanceof \BackedEnum:
                return $value->value;
            case $value instanceof \JsonSerializable:
                return self::prepare($value->jsonSerialize(), $mode, $depth + 1);
            case $value instanceof \stdClass ||
                $mode !== self::HOLD && is_object($value) && !($value instanceof \Closure ||
                    $value instanceof \Generator || $value instanceof \UnitEnum):
                $object = new \stdClass();
                foreach (get_object_vars($value) as $key => $item) {
                    $object->$key = self::prepare($item, $mode, $depth + 1);
                }
                return $object;
            case $mode === self::REFUSE:
                throw new SerializationError($value instanceof \UnitEnum
                    ? 'the enum case ' . get_class($value) . '::' . $value->name .
                        ' has no value to send'
                    : 'a ' . get_debug_type($value) . ' cannot be sent');
            default:  // objects, closures, generators, pure enum cases, resources (open or closed)
                return self::hold($value);
        }
    }

    /** Puts a value in the table: its tag, {"$obj": N, "type": T} ({"$yours": N} for a proxy). */
    private static function hold(mixed $value): array
    {
        if ($value instanceof Proxy) {
            return ['$yours' => (self::$proxyNumber)($value)];
        }
        $number = ++self::$lastObject;
        self::$objects[$number] = $value;
        if (self::$heldNow !== null) {
            self::$heldNow[] = $number;
        }
        return ['$obj' => $number, 'type' => get_debug_type($value)];
    }

    /** The table's entry N (the value of {"$yours": N}, the object of invoke, get, set). */
    private static function held(mixed $number): mixed
    {
        if (!is_int($number)) {
            throw new InvalidParams('"object" must be an integer');
        }
        if (!array_key_exists($number, self::$objects)) {
            throw new InvalidParams("no object $number in the table: it was released or never held");
        }
        return self::$objects[$number];
    }

    /** One protocol line; throws SerializationError for what JSON cannot carry. */
    private static function dumps(array $message, int $mode = self::HOLD): string
    {
        return self::encode($message, $mode) . "\n";
    }

    /** dumps() of a result, sooner. */
    private static function resultLine(mixed $id, mixed $result, int $mode = self::HOLD): string
    {
        return is_int($id) ? '{"jsonrpc":"2.0","id":' . $id . ',"result":' .
            self::encode($result, $mode) . "}\n"
            : self::dumps(['jsonrpc' => '2.0', 'id' => $id, 'result' => $result], $mode);
    }

    /**
     * A value as JSON; throws SerializationError for what JSON cannot carry, and then holds
     * none of the objects it put in the table for it.
     */
    private static function encode(mixed $value, int $mode = self::HOLD): string
    {
        // Floats go out exact, whatever user code set; -1 is PHP's default.
        $precision = ini_get('serialize_precision');
        if ($precision !== '-1') {
            ini_set('serialize_precision', '-1');
        }
        try {
            if (!is_object($value)) {
                // What prepare() would change in scalars and lists, json_encode refuses (not
                // UTF-8, NaN, too deep); objects and keyed arrays come out with "{".
                try {
                    $json = json_encode($value, self::JSON_FLAGS, self::MAX_DEPTH);
                    if (!is_array($value) || !str_contains($json, '{')) {
                        return $json;
                    }
                } catch (\JsonException $ignored) {
                }
            }
            self::$bigints = false;
            $outer = self::$heldNow;
            self::$heldNow = [];
            try {
                $json = json_encode(self::prepare($value, $mode), self::JSON_FLAGS, 100000);
            } catch (\JsonException | SerializationError $error) {
                foreach (self::$heldNow as $number) {
                    unset(self::$objects[$number]);
                }
                throw $error instanceof SerializationError ? $error
                    : new SerializationError($error->getMessage());
            } finally {
                self::$heldNow = $outer;
            }
            if (self::$bigints) {
                $json = preg_replace('/"' . preg_quote(self::$nonce, '/') . '(\d+)"/', '$1', $json);
            }
            return $json;
        } finally {
            if ($precision !== '-1') {
                ini_set('serialize_precision', $precision);
            }
        }
    }

    /** A protocol line as PHP values: objects become associative arrays, bytes strings. */
    private static function loads(string $line): mixed
    {
        // With no tags ($bytes, $code, $obj, $yours), big integers, {} or \u (which could spell a
        // tag), arrays will do. (One regular expression with alternatives scans a long line at
        // half the speed: the one for tags runs only on a line that has "$ at all.)
        self::$tagged = false;
        $bigints = preg_match('/\d{19}/', $line);
        if (!$bigints && !str_contains($line, '\\u') && !preg_match('/\{\s*\}/', $line) &&
            !(str_contains($line, '"$') && preg_match('/"\$(?:bytes|code|obj|yours)"/', $line))) {
            return json_decode($line, true, 100000, JSON_THROW_ON_ERROR);
        }
        $key = '$bond-bigint-' . self::$nonce;
        if ($bigints) {
            // Integers beyond PHP's int would become floats: mark them, outside strings.
            $line = preg_replace_callback(
                '/"(?:[^"\\\\]|\\\\.)*+"(*SKIP)(*FAIL)|(?<![\d.eE+-])-?\d{19,}(?![\d.eE])/',
                fn($m) => self::fitsInt($m[0]) ? $m[0] : '{"' . $key . '":"' . $m[0] . '"}',
                $line) ?? $line;  // a PCRE limit: PHP's floats, as json_decode gives them
        }
        return self::convertIncoming(json_decode($line, false, 100000, JSON_THROW_ON_ERROR), $key);
    }

    private static function fitsInt(string $digits): bool
    {
        $negative = $digits[0] === '-';
        $digits = ltrim($negative ? substr($digits, 1) : $digits, '0');
        $limit = $negative ? '9223372036854775808' : '9223372036854775807';
        return strlen($digits) < 19 || (strlen($digits) === 19 && strcmp($digits, $limit) <= 0);
    }

    private static function convertIncoming(mixed $value, string $bigintKey): mixed
    {
        if (is_array($value)) {
            foreach ($value as $index => $item) {
                if (is_array($item) || is_object($item)) {
                    $value[$index] = self::convertIncoming($item, $bigintKey);
                }
            }
            return $value;
        }
        if (!is_object($value)) {
            return $value;
        }
        $properties = get_object_vars($value);
        if (!$properties) {
            return $value;  // {} stays an object: an empty array would go back as []
        }
        if (count($properties) === 1) {
            $only = reset($properties);
            $name = key($properties);
            if ($name === '$bytes' && is_string($only) && strlen($only) % 4 === 0 &&
                preg_match('~^[A-Za-z0-9+/]*={0,2}$~', $only)) {
                $bytes = base64_decode($only, true);
                if ($bytes !== false) {
                    return preg_match('//u', $bytes) ? new Bytes($bytes) : $bytes;
                }
            } elseif ($name === $bigintKey) {
                return new BigInt($only);
            } elseif ($name === '$code' && is_string($only) ||
                $name === '$yours' && is_int($only) && $only >= 0) {
                self::$tagged = true;
                return new Tag($name === '$code', $only);
            } elseif ($name === '$obj' && is_int($only) && $only >= 0) {
                return self::proxyOf($only, 'object');
            }
        } elseif (count($properties) === 2 && is_int($properties['$obj'] ?? null) &&
            $properties['$obj'] >= 0 && is_string($properties['type'] ?? null)) {
            return self::proxyOf($properties['$obj'], $properties['type']);
        }
        $array = [];
        foreach ($properties as $name => $item) {
            $array[$name] = is_array($item) || is_object($item)
                ? self::convertIncoming($item, $bigintKey) : $item;
        }
        return $array;
    }

    /**
     * Replaces the Tags of an incoming value: {"$code": S} by the value of S, {"$yours": N} by
     * the table's entry N (InvalidParams when it has none). Only for a line that has them.
     */
    private static function resolve(mixed $value): mixed
    {
        if ($value instanceof Tag) {
            return $value->code ? Scope::run(self::expression($value->payload))
                : self::held($value->payload);
        }
        if (is_array($value)) {
            foreach ($value as $key => $item) {
                if (is_array($item) || $item instanceof Tag) {
                    $value[$key] = self::resolve($item);
                }
            }
        }
        return $value;
    }

    // --- Stopping and limits ---------------------------------------------------------------------
    // Stopping running code (docs/protocol.md, Limits). PHP has no threads: while user code runs
    // the protocol's input raises SIGIO when a line arrives (O_ASYNC, see watch()), and pcntl's
    // async signals run onSignal() between two opcodes, also in a loop that never calls
    // anything. It raises Interrupted only in user code, never while the driver reads or writes
    // the protocol: there the stop waits for the next safe point (the code starts, an exported
    // function returns, the code prints).
    private static function watchInput(): void
    {
        if (!function_exists('pcntl_async_signals')) {
            return;  // no pcntl: the host's grace period still ends code it cannot stop
        }
        pcntl_async_signals(true);
        pcntl_signal(SIGIO, [self::class, 'onSignal'], false);
        // Not ITIMER_PROF and SIGPROF: they are PHP's own, for max_execution_time.
        pcntl_signal(SIGXCPU, [self::class, 'onSignal'], false);
        $c = self::$libc;
        $event = $c->new('struct bond_sigevent');
        $event->signo = SIGXCPU;  // notify = SIGEV_SIGNAL (0)
        $timer = $c->new('void *');
        if ($c->timer_create(self::CLOCK_PROCESS_CPUTIME_ID, \FFI::addr($event), \FFI::addr($timer)) === 0) {
            self::$cpuTimer = $timer;
        }
        // O_ASYNC for good (switching it is dear), with no owner yet: see watch().
        self::check($c->fcntl(self::$protocolIn, self::F_SETOWN, 0), 'F_SETOWN');
        $flags = self::check($c->fcntl(self::$protocolIn, self::F_GETFL), 'F_GETFL');
        self::check($c->fcntl(self::$protocolIn, self::F_SETFL, $flags | self::O_ASYNC), 'O_ASYNC');
        self::$canWatch = true;
    }

    /**
     * Owns the input (F_SETOWN: SIGIO) only while user code runs: a signal for each line the
     * driver reads itself costs more than two fcntl. An interrupt read with the request is taken
     * at the next safe point; one that comes in the moment between the driver's read and the
     * fcntl raises no signal, and the host sends it once more a quarter of the way into the
     * grace period (docs/protocol.md), which the code, still running then, gets: polling the
     * input for it here cost a system call per request. Returns the previous state.
     */
    private static function watch(bool $on): bool
    {
        $was = self::$watching;
        if ($on !== $was && self::$canWatch) {
            self::$libc->fcntl(self::$protocolIn, self::F_SETOWN, $on ? self::$pid : 0);
            self::$watching = $on;
            if ($on && str_contains(self::$inBuffer, '"interrupt"')) {
                self::$inputArrived = true;
            }
        }
        return $was;
    }

    public static function onSignal(int $signal): void
    {
        if (!self::inDriverProcess()) {
            return;
        }
        if ($signal === SIGXCPU && isset(self::$limits['cpu'])) {
            $id = self::$limits['id'];
            $message = 'the code used more than its CPU time limit of ' . self::$limits['cpu'] . ' s';
            if (self::requestStop($id, $message, 'cpu')) {
                $notification = json_encode(['jsonrpc' => '2.0', 'method' => 'limit',
                    'params' => ['id' => $id, 'limit' => 'cpu']], self::JSON_FLAGS) . "\n";
                if (self::$userCode) {
                    self::writeAll(self::$protocolOut, $notification);
                } else {
                    self::$pendingNotifications[] = $notification;
                }
            }
        }
        if ($signal === SIGIO) {
            self::$inputArrived = true;
        }
        self::stopAtSafePoint();
    }

    /** In user code: takes the interrupts that arrived, raises a pending stop. */
    private static function stopAtSafePoint(): void
    {
        if (!self::$userCode) {
            return;
        }
        if (self::$inputArrived) {
            self::$inputArrived = false;
            self::takeInterrupts();
        }
        self::raiseStop();
    }

    private static function requestStop(mixed $id, string $message, ?string $limit = null): bool
    {
        if (self::$stop === null && in_array($id, self::$serving, true)) {
            self::$stop = [$id, $message, $limit];
            return true;
        }
        return false;
    }

    /** Raises the pending stop in the code running now, once, if that is user code. */
    private static function raiseStop(): void
    {
        if (self::$stop !== null && !self::$stopRaised && self::$userCode) {
            self::$stopRaised = true;
            throw new Interrupted(self::$stop[1], self::$stop[2]);
        }
    }

    /**
     * Reads what the protocol's input holds now, without blocking, and takes the interrupt
     * notifications out of it; only user code reads here, never the driver's own read. While the
     * code runs the host sends nothing else. End of file: the host is gone, the code must not run
     * on unattended.
     */
    private static function takeInterrupts(): void
    {
        if (self::$pollInput === null) {
            $poll = self::$libc->new('struct bond_pollfd', false);
            $poll->fd = self::$protocolIn;
            $poll->events = self::POLLIN;
            self::$pollInput = \FFI::addr($poll);
        }
        while (self::$libc->poll(self::$pollInput, 1, 0) > 0) {
            $n = self::$libc->read(self::$protocolIn, self::$readBuffer, self::READ_SIZE);
            if ($n === 0) {
                self::$libc->_exit(1);
            }
            if ($n < 0) {
                break;
            }
            self::$inBuffer .= \FFI::string(self::$readBuffer, $n);
        }
        if (!str_contains(self::$inBuffer, '"interrupt"')) {
            return;
        }
        $lines = explode("\n", self::$inBuffer);
        $partial = array_pop($lines);
        $kept = [];
        foreach ($lines as $line) {
            if (!self::takeInterrupt($line)) {
                $kept[] = $line;
            }
        }
        $kept[] = $partial;
        self::$inBuffer = implode("\n", $kept);
        self::$scanned = 0;
    }

    /** Whether `line` is an interrupt notification (then taken). */
    private static function takeInterrupt(string $line): bool
    {
        if (!str_contains($line, '"interrupt"')) {
            return false;
        }
        $message = json_decode($line, true);
        if (!is_array($message) || ($message['method'] ?? null) !== 'interrupt' ||
            array_key_exists('id', $message)) {
            return false;
        }
        $params = is_array($message['params'] ?? null) ? $message['params'] : [];
        self::requestStop($params['id'] ?? null, is_string($params['reason'] ?? null)
            ? $params['reason'] : 'the code was interrupted');
        return true;
    }

    private static function applyLimits(int $id, mixed $limits): void
    {
        self::$limits = ['id' => $id];
        $cpu = $limits['cpu'] ?? null;
        if ((is_int($cpu) || is_float($cpu)) && $cpu > 0) {
            self::$limits['cpu'] = $cpu;
            self::setCpuTimer($cpu);
        }
        $memory = $limits['memory'] ?? null;
        if (is_int($memory) && $memory > 0) {
            self::$limits['memory'] = $memory;
            self::$memoryLimit = (string)ini_get('memory_limit');
            ini_set('memory_limit', (string)(self::$memoryBaseline + $memory));
        }
    }

    private static function liftLimits(): void
    {
        if (isset(self::$limits['cpu'])) {
            self::setCpuTimer(0);
        }
        if (isset(self::$limits['memory'])) {
            ini_set('memory_limit', self::$memoryLimit);
        }
        self::$limits = [];
    }

    private static function setCpuTimer(float $seconds): void
    {
        if (self::$cpuTimer === null) {
            return;
        }
        $value = self::$libc->new('struct bond_itimerspec');
        $value->it_value->tv_sec = (int)$seconds;
        $value->it_value->tv_nsec = (int)(($seconds - (int)$seconds) * 1e9);
        self::$libc->timer_settime(self::$cpuTimer, 0, \FFI::addr($value), null);
    }

    // --- Requests from the host ------------------------------------------------------------------
    private static function code(array $params, string $key = 'code'): string
    {
        $code = $params[$key] ?? null;
        if (!is_string($code)) {
            throw new InvalidParams("\"$key\" must be a string");
        }
        return $code;
    }

    private static function expression(string $code): string
    {
        return 'return (' . rtrim($code, " \t\r\n;") . "\n);";
    }

    private static function doEval(array $params): mixed
    {
        $code = self::code($params);
        try {
            return Scope::run(self::expression($code));
        } catch (\ParseError $error) {
            // Of the parentheses the driver put around the code: the code's own error instead.
            if ($error->getFile() === self::$userFile && $error->getTrace() &&
                $error->getTrace()[0]['function'] === '__bond_global_scope') {
                try {
                    token_get_all('<?php return ' . $code, TOKEN_PARSE);
                } catch (\ParseError $own) {
                    (new \ReflectionProperty(\Error::class, 'message'))->setValue(
                        $error, $own->getMessage());
                    (new \ReflectionProperty(\Error::class, 'line'))->setValue(
                        $error, $own->getLine());
                }
            }
            throw $error;
        }
    }

    private static function doEvalBlock(array $params): mixed
    {
        $code = self::code($params);
        $code = preg_replace('/^\s*<\?php\b/', '', $code);
        // A last statement without its ";" (eval_block("1")) is completed, as php -a would.
        if (!preg_match('/[;}]\s*$/', $code)) {
            try {
                token_get_all('<?php ' . $code, TOKEN_PARSE);
            } catch (\ParseError $error) {
                try {
                    token_get_all('<?php ' . $code . "\n;", TOKEN_PARSE);
                    $code .= "\n;";
                } catch (\ParseError $ignored) {  // its own error, when it runs
                }
            }
        }
        $declared = self::checkDeclarations($code);
        if (self::$codeFile !== self::NO_FILE) {
            foreach ($declared as $key => $ignored) {
                self::$declaredIn[$key] = self::$codeFile;
            }
        }
        Scope::run($code);
        return null;
    }

    /**
     * PHP cannot declare a function or class twice, and trying is a fatal error that would end
     * the interpreter: code that declares, unconditionally (outside any braces but a namespace's),
     * a function or class that exists, or one twice, is refused before it runs, with PHP's
     * message. Conditional declarations (`if (!function_exists('f')) { function f() {} }`) are
     * left to run as they would in PHP.
     */
    private static function checkDeclarations(string $code): array
    {
        $tokens = token_get_all("<?php\n" . $code);
        $count = count($tokens);
        $namespace = '';
        $depth = 0;
        $top = 0;  // the depth of unconditional code: 1 inside namespace X { ... }
        $namespaceOpening = false;
        $declared = [];
        $previous = null;
        $significant = fn($token) => !is_array($token) ||
            !in_array($token[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
        $nextName = function (int $i) use ($tokens, $count, $significant): ?string {
            for ($i++; $i < $count; $i++) {
                if ($significant($tokens[$i]) && $tokens[$i] !== '&') {
                    return is_array($tokens[$i]) && $tokens[$i][0] === T_STRING
                        ? $tokens[$i][1] : null;
                }
            }
            return null;
        };
        for ($i = 0; $i < $count; $i++) {
            $token = $tokens[$i];
            if (!$significant($token)) {
                continue;
            }
            $id = is_array($token) ? $token[0] : $token;
            if ($id === '{' || $id === T_CURLY_OPEN || $id === T_DOLLAR_OPEN_CURLY_BRACES) {
                $depth++;
                if ($namespaceOpening) {
                    $top = $depth;
                    $namespaceOpening = false;
                }
            } elseif ($id === '}') {
                if ($depth === $top) {
                    $top = 0;  // the end of namespace X { ... }
                    $namespace = '';
                }
                $depth--;
            } elseif ($id === ';') {
                $namespaceOpening = false;
            } elseif ($id === T_NAMESPACE && $depth === 0 && $previous !== T_NS_SEPARATOR) {
                $namespaceOpening = true;
                $namespace = '';
                for ($j = $i + 1; $j < $count && !$significant($tokens[$j]); $j++);
                if ($j < $count && is_array($tokens[$j]) &&
                    in_array($tokens[$j][0], [T_STRING, T_NAME_QUALIFIED], true)) {
                    $namespace = $tokens[$j][1] . '\\';
                } elseif ($j < $count && $tokens[$j] !== '{') {
                    $namespaceOpening = false;  // namespace\f(): the operator, not a declaration
                }
            } elseif ($depth === $top && $id === T_FUNCTION && $previous !== T_USE) {
                $name = $nextName($i);
                if ($name !== null) {
                    $full = strtolower($namespace . $name);
                    if (function_exists($full) || isset($declared["f:$full"])) {
                        throw new \Error("Cannot redeclare function $namespace$name()");
                    }
                    $declared["f:$full"] = true;
                }
            } elseif ($depth === $top && in_array($id, [T_CLASS, T_INTERFACE, T_TRAIT, T_ENUM], true)
                && $previous !== T_DOUBLE_COLON && $previous !== T_NEW) {
                $name = $nextName($i);
                if ($name !== null) {
                    $full = strtolower($namespace . $name);
                    if (class_exists($full, false) || interface_exists($full, false) ||
                        trait_exists($full, false) || isset($declared["c:$full"])) {
                        throw new \Error("Cannot declare {$token[1]} $namespace$name, because the " .
                            'name is already in use');
                    }
                    $declared["c:$full"] = true;
                }
            }
            $previous = $id;
        }
        return $declared;
    }

    private static function resolveCallable(string $name): mixed
    {
        $name = trim($name);
        if (preg_match('/^\\\\?[A-Za-z_\x80-\xff][\w\x80-\xff]*(\\\\[A-Za-z_\x80-\xff][\w\x80-\xff]*)*(::[A-Za-z_\x80-\xff][\w\x80-\xff]*)?$/', $name)) {
            return $name;  // a function or a static method, by name: nothing to evaluate
        }
        if (preg_match('/^(.+)(->|::)\s*([A-Za-z_\x80-\xff][\w\x80-\xff]*)$/s', $name, $m)) {
            $target = Scope::run(self::expression($m[1]));
            if (is_object($target) && $m[2] === '->' && !is_callable([$target, $m[3]]) &&
                isset($target->{$m[3]})) {
                return $target->{$m[3]};  // a property that holds a callable
            }
            if (is_object($target) || is_string($target)) {
                return [$target, $m[3]];  // $obj->method, $class::method: PHP's Error if none
            }
        }
        return Scope::run(self::expression($name));
    }

    private static function doCall(array $params): mixed
    {
        $callable = self::resolveCallable(self::code($params, 'name'));
        return $callable(...self::args($params));  // PHP's own Error when it is not callable
    }

    private static function args(array $params): array
    {
        $args = $params['args'] ?? [];
        if (!is_array($args) || !array_is_list($args)) {
            throw new InvalidParams('"args" must be an array');
        }
        return $args;
    }

    private static function name(array $params, string $key, bool $nullable): ?string
    {
        $name = $params[$key] ?? null;
        if (!is_string($name) && !($nullable && $name === null)) {
            throw new InvalidParams("\"$key\" must be a string" . ($nullable ? ' or null' : ''));
        }
        return $name;
    }

    /** invoke: $o->method(...$args), or $o(...$args) for method null. */
    private static function doInvoke(array $params): mixed
    {
        $object = self::held($params['object'] ?? null);
        $method = self::name($params, 'method', true);
        $args = self::args($params);
        return $method === null ? $object(...$args) : $object->$method(...$args);
    }

    /**
     * get: $o->name; a method's name (no property of that name) gives the method bound to the
     * object, Closure::fromCallable([$o, 'name']), so that a caller that cannot tell a method
     * from a property (Python, JavaScript) gets something to call. Name null: the object itself,
     * which handleRequest sends as a copy (COPY).
     */
    private static function doGet(array $params): mixed
    {
        $object = self::held($params['object'] ?? null);
        $name = self::name($params, 'name', true);
        if ($name === null) {
            return $object;
        }
        if (!is_object($object)) {
            throw new \Error("Attempt to read property \"$name\" on " . get_debug_type($object));
        }
        if (property_exists($object, $name)) {
            return $object->$name;  // PHP's Error for a private one
        }
        if (method_exists($object, $name)) {
            return \Closure::fromCallable([$object, $name]);
        }
        if (method_exists($object, '__get')) {
            return $object->$name;
        }
        if (is_callable([$object, $name])) {
            return \Closure::fromCallable([$object, $name]);  // __call
        }
        // Reading it in PHP is a warning and null: here it is an error, as in the other languages.
        throw new \Error('Undefined property: ' . get_debug_type($object) . "::\$$name");
    }

    /** set: $o->name = $value (PHP's Error for a readonly or private property). */
    private static function doSet(array $params): mixed
    {
        $object = self::held($params['object'] ?? null);
        $name = self::name($params, 'name', false);
        if (!is_object($object)) {
            throw new \Error("Attempt to assign property \"$name\" on " .
                get_debug_type($object));
        }
        $object->$name = $params['value'] ?? null;
        return null;
    }

    private static function doCountObjects(array $params): mixed
    {
        return count(self::$objects);
    }

    /** The host's release notification: it holds these numbers no more. */
    private static function release(mixed $params): void
    {
        $numbers = is_array($params) && is_array($params['objects'] ?? null)
            ? $params['objects'] : [];
        foreach ($numbers as $number) {
            if (!is_int($number) && !is_string($number)) {
                continue;
            }
            try {
                unset(self::$objects[$number]);  // the object's destructor may run: user code
            } catch (\Throwable $error) {
                trigger_error("bond: the destructor of the released object $number threw " .
                    self::describe($error), E_USER_WARNING);
            }
        }
    }

    private static function doExport(array $params): mixed
    {
        $name = $params['name'] ?? null;
        if (!is_string($name) || !preg_match('/^[A-Za-z_\x80-\xff][\w\x80-\xff]*$/', $name)) {
            throw new InvalidParams(json_encode($name) . ' is not a valid PHP function name');
        }
        $lower = strtolower($name);
        if (isset(self::$exports[$lower])) {
            if (self::$exports[$lower] === $name) {
                return null;  // exported again: the host calls its new function by the same name
            }
            throw new InvalidParams("cannot export $name: PHP function names ignore case, and " .
                self::$exports[$lower] . ' is exported already');
        }
        if (function_exists($name)) {
            throw new InvalidParams("cannot export $name: PHP already has a function $name()");
        }
        try {
            eval("function $name(...\$args) { return \\Bond\\Driver::callHost('$name', \$args); }");
        } catch (\ParseError $error) {
            throw new InvalidParams("$name is not a valid PHP function name: " .
                $error->getMessage());
        }
        self::$exports[$lower] = $name;
        return null;
    }

    private static function doConfigure(array $params): mixed
    {
        self::$trans_except = (bool)($params['trans_except'] ?? self::$trans_except);
        return null;
    }

    private static function describe(\Throwable $error): string
    {
        $text = self::userText($error->getMessage());
        return $text === '' ? get_class($error) : get_class($error) . ': ' . $text;
    }

    /**
     * Displays a warning, notice or deprecation of user code as PHP would (display_errors,
     * error_reporting and @ respected), naming the user's file rather than the driver's eval;
     * anything else is left to PHP.
     */
    private static function displayError(int $level, string $message, string $file,
                                         int $line): bool
    {
        static $labels = [E_WARNING => 'Warning', E_USER_WARNING => 'Warning',
            E_NOTICE => 'Notice', E_USER_NOTICE => 'Notice', E_DEPRECATED => 'Deprecated',
            E_USER_DEPRECATED => 'Deprecated'];
        $display = strtolower((string)ini_get('display_errors'));
        if ($file !== self::$userFile || !isset($labels[$level]) ||
            !(error_reporting() & $level) || in_array($display, ['', '0', 'off'], true)) {
            return false;
        }
        $text = $labels[$level] . ': ' . self::userText($message) . ' in ' . self::$codeFile .
            " on line $line\n";
        fwrite($display === 'stderr' ? STDERR : STDOUT, $display === 'stderr' ? $text : "\n$text");
        return true;
    }

    /** A message of PHP's with the driver taken out: user code's file named as the user's. */
    private static function userText(string $text): string
    {
        $text = preg_replace('/, called in ' . preg_quote(__FILE__, '/') . ' on line \d+/', '',
            $text);
        return str_replace(self::$userFile, self::$codeFile, $text);
    }

    /**
     * Where $error was raised, innermost frame first, without the driver's frames. PHP's trace
     * names each called function with the place of its call; a frame is a place and the function
     * it is in ('{main}': the top level).
     */
    private static function stack(\Throwable $error): array
    {
        $frames = [];
        $file = $error->getFile();
        $line = $error->getLine();
        foreach ([...$error->getTrace(), []] as $call) {
            $function = $call['function'] ?? '{main}';
            $class = $call['class'] ?? null;
            if ($function === '__bond_global_scope' || str_starts_with((string)$class, 'Bond\\') ||
                $function === 'eval' && ($call['file'] ?? null) === __FILE__) {  // Scope's eval
                $function = '{main}';
                $class = null;
            }
            // (the driver's file, and the shell's that ran it, begin the name of user code's)
            if ($file !== null && ($file === self::$userFile ||
                    !str_starts_with(self::$userFile, $file))) {
                if ($file === self::$userFile) {
                    $key = $class !== null ? 'c:' . strtolower($class)
                        : 'f:' . strtolower($function);
                    $file = $function === '{main}' ? self::$codeFile
                        : (self::$declaredIn[$key] ?? self::$codeFile);
                }
                $frames[] = ['file' => $file, 'line' => $line,
                    'function' => $class !== null ? $class . $call['type'] . $function : $function];
            }
            $file = $call['file'] ?? null;
            $line = $call['line'] ?? 0;
        }
        return $frames;
    }

    private static function errorData(\Throwable $error): array
    {
        $data = ['type' => get_class($error), 'stack' => self::stack($error)];
        if (self::$trans_except) {
            $exception = $error instanceof \JsonSerializable ? $error->jsonSerialize() : [
                'type' => get_class($error), 'message' => $error->getMessage(),
                'code' => $error->getCode(), 'file' => $error->getFile(),
                'line' => $error->getLine()];
            try {
                self::dumps(['exception' => $exception], self::REFUSE);
            } catch (\Throwable $ignored) {
                $exception = ['type' => get_class($error), 'message' => $error->getMessage()];
            }
            $data['exception'] = $exception;
        }
        return $data;
    }

    private static function replyError(mixed $id, int $code, string $message,
                                       ?array $data = null): void
    {
        if (!preg_match('//u', $message)) {
            $message = function_exists('mb_scrub') ? mb_scrub($message, 'UTF-8')
                : (string)@iconv('UTF-8', 'UTF-8//IGNORE', $message);
        }
        $error = ['code' => $code, 'message' => $message];
        if ($data !== null) {
            $error['data'] = $data;
        }
        try {
            $line = self::dumps(['jsonrpc' => '2.0', 'id' => $id, 'error' => $error], self::REFUSE);
        } catch (SerializationError $ignored) {
            unset($error['data']);
            $line = self::dumps(['jsonrpc' => '2.0', 'id' => $id, 'error' => $error], self::REFUSE);
        }
        self::sendLine($line);
    }

    /**
     * Serves one request of the host. $message is taken (emptied): what the request holds, a
     * proxy in its args say, is let go before the reply is sent, so that its release can go first;
     * what the result holds, after it (the reply names it).
     */
    private static function handleRequest(array &$message, bool $tagged): void
    {
        $id = $message['id'] ?? null;
        $method = $message['method'];
        $params = $message['params'] ?? [];
        $message = [];
        if (!is_array($params)) {
            $params = [];  // {} arrives as an empty object
        }
        $handler = ['eval' => 'doEval', 'eval_block' => 'doEvalBlock', 'call' => 'doCall',
            'invoke' => 'doInvoke', 'get' => 'doGet', 'set' => 'doSet',
            'count_objects' => 'doCountObjects', 'export' => 'doExport',
            'configure' => 'doConfigure'][$method] ?? null;
        if ($handler === null) {
            self::replyError($id, -32601, 'unknown method ' . json_encode($method));
            return;
        }
        // The result is held whatever it is (keep), or sent as a copy (get of the object itself).
        $keep = ($params['keep'] ?? false) === true &&
            in_array($method, ['eval', 'call', 'invoke', 'get'], true);
        $mode = $method === 'get' && ($params['name'] ?? null) === null ? self::COPY : self::HOLD;
        self::$serving[] = $id;  // until the reply is sent: see onShutdown
        $outerFile = self::$codeFile;
        $file = $params['file'] ?? null;
        self::$codeFile = $method === 'eval_block' && is_string($file) && $file !== ''
            ? $file : self::NO_FILE;
        $limited = isset($params['limits']);
        try {
            try {
                if ($limited) {
                    self::applyLimits($id, $params['limits']);
                }
                self::$userCode = true;
                $watched = self::watch(true);
                try {
                    // Stopped before it started? (Without signals, the input is polled.)
                    if (!self::$canWatch || str_contains(self::$inBuffer, '"interrupt"')) {
                        self::$inputArrived = true;
                    }
                    self::stopAtSafePoint();
                    if ($tagged) {
                        $params = self::resolve($params);  // $code runs here: user code
                    }
                    $result = self::$handler($params);
                } finally {
                    self::$userCode = false;
                    self::watch($watched);
                    if ($limited) {
                        self::liftLimits();
                    }
                }
            } catch (InvalidParams $error) {
                $reply = [-32602, $error->getMessage(), null];
            } catch (Interrupted $error) {
                $reply = [-32002, self::describe($error),
                    ['type' => get_class($error), 'limit' => $error->limit]];
            } catch (\Throwable $error) {
                $reply = [-32000, self::describe($error), self::errorData($error)];
            }
            unset($params, $error);  // its trace holds the arguments
            self::$codeFile = $outerFile;
            if (isset($reply)) {
                self::replyError($id, ...$reply);
                return;
            }
            if ($id === null) {
                return;
            }
            try {
                $line = self::resultLine($id, $keep ? self::hold($result) : $result, $mode);
            } catch (SerializationError $error) {
                unset($result);
                self::replyError($id, -32001, 'cannot serialize the result: ' .
                    $error->getMessage());
                return;
            }
            // Held until the line is written: a proxy in it that dies now would have its
            // release written first, before the line that names it.
            self::sendLine($line);
            unset($result);
        } finally {
            array_pop(self::$serving);
            if (self::$stop !== null && self::$stop[0] === $id) {
                self::$stop = null;
                self::$stopRaised = false;
            } elseif (self::$stop === null && !self::$serving) {
                // A -32002 reply of the host with no interrupt of ours (another bond's code was
                // stopped, and the error came through an object of it) raised Interrupted.
                self::$stopRaised = false;
            }
            if (!self::$serving && self::$handlerBroken) {
                self::restoreOutputHandler();
            }
        }
    }

    // --- Calls to the host -----------------------------------------------------------------------
    /** An exported function: sends a request to the host and serves its requests until the reply. */
    public static function callHost(string $name, array $args): mixed
    {
        if (!self::inDriverProcess()) {
            throw new BondError("$name() is exported by the bond's host and cannot be called " .
                'from a forked process');
        }
        if (!array_is_list($args)) {
            throw new BondError("$name() is exported by the bond's host and takes no named " .
                'arguments');
        }
        try {
            $params = '{"name":' . self::encode($name) . ',"args":' . self::encode($args) . '}';
        } catch (SerializationError $error) {
            throw new \TypeError("cannot serialize the arguments of $name(): " .
                $error->getMessage());
        }
        return self::requestHost('call', $params);
    }

    /** A Proxy's operation: invoke (method null: the object itself), get or set. */
    public static function proxyRequest(?int $number, string $type, string $method, ?string $name,
                                        mixed $value = null): mixed
    {
        $what = "<bond proxy of $type #$number>" . ($name === null ? '' : "->$name");
        if ($number === null) {
            throw new BondError("$what: this proxy was not made by the bond");
        }
        if (!self::inDriverProcess()) {
            throw new BondError("$what belongs to the bond's host and cannot be used from a " .
                'forked process');
        }
        if ($method === 'invoke' && !array_is_list($value)) {
            throw new BondError("$what belongs to the bond's host and takes no named arguments");
        }
        try {
            $params = '{"object":' . $number . ',' . match ($method) {
                'invoke' => '"method":' . self::encode($name) . ',"args":' . self::encode($value),
                'get' => '"name":' . self::encode($name),
                'set' => '"name":' . self::encode($name) . ',"value":' . self::encode($value),
            } . '}';
        } catch (SerializationError $error) {
            throw new \TypeError('cannot serialize the ' . ($method === 'set' ? 'value' :
                'arguments') . " of $what: " . $error->getMessage());
        }
        return self::requestHost($method, $params);
    }

    /** Sends a request to the host and serves the host's requests until its reply. */
    private static function requestHost(string $method, string $params): mixed
    {
        $id = ++self::$nextRequestId;
        $line = '{"jsonrpc":"2.0","id":' . $id . ',"method":"' . $method . '","params":' .
            $params . "}\n";
        self::stopAtSafePoint();
        $userCode = self::$userCode;
        self::$userCode = false;
        $watched = self::watch(false);  // the driver reads the input itself meanwhile
        // Called from a value being encoded (jsonSerialize): what the requests served meanwhile
        // hold was sent, and is not that value's to drop.
        $heldNow = self::$heldNow;
        self::$heldNow = null;
        try {
            self::sendLine($line);
            $result = self::serve($id);
        } finally {
            self::$userCode = $userCode;
            self::$heldNow = $heldNow;
            self::watch($watched);
        }
        self::stopAtSafePoint();  // the host's function returned, but the code was stopped meanwhile
        return $result;
    }

    // --- The serving loop ------------------------------------------------------------------------
    /** The next protocol line, without its "\n"; null at end-of-file. */
    private static function readLine(): ?string
    {
        self::leaveForkedProcess();
        $userCode = self::$userCode;
        self::$userCode = false;
        try {
            return self::readBufferedLine();
        } finally {
            self::$userCode = $userCode;
        }
    }

    private static function readBufferedLine(): ?string
    {
        while (true) {
            $end = strpos(self::$inBuffer, "\n", self::$scanned);
            if ($end !== false) {
                $line = substr(self::$inBuffer, 0, $end);
                self::$inBuffer = (string)substr(self::$inBuffer, $end + 1);
                self::$scanned = 0;
                return $line;
            }
            self::$scanned = strlen(self::$inBuffer);
            $n = self::$libc->read(self::$protocolIn, self::$readBuffer, self::READ_SIZE);
            if ($n < 0 && self::errno() === self::EINTR) {
                continue;
            }
            if ($n <= 0) {
                return null;
            }
            self::$inBuffer .= \FFI::string(self::$readBuffer, $n);
        }
    }

    private static function serve(?int $awaited = null): mixed
    {
        while (true) {
            $line = self::readLine();
            if ($line === null) {
                // The host closed the bond. exit() ends only the line php -a is running; the shell
                // then reads descriptor 0, /dev/null, and ends with the status, as for exit() in
                // user code.
                exit(0);
            }
            try {
                $message = self::loads($line);
            } catch (\JsonException $error) {
                self::replyError(null, -32700, 'parse error: ' . $error->getMessage());
                continue;
            }
            $tagged = self::$tagged;
            if (!is_array($message) || array_is_list($message) && $message) {
                self::replyError(null, -32600, 'a message must be a JSON object');
            } elseif (($message['method'] ?? null) === 'interrupt') {
                self::takeInterrupt($line);  // while an exported function runs: see callHost
            } elseif (($message['method'] ?? null) === 'release' &&
                !array_key_exists('id', $message)) {
                self::release($message['params'] ?? null);
            } elseif (array_key_exists('method', $message)) {
                self::handleRequest($message, $tagged);
            } elseif ($awaited !== null && ($message['id'] ?? null) === $awaited) {
                if (array_key_exists('error', $message)) {
                    $error = $message['error'];
                    $text = is_array($error) && is_string($error['message'] ?? null)
                        ? $error['message'] : 'error in the host';
                    if (is_array($error) && ($error['code'] ?? null) === -32002) {
                        self::$stopRaised = true;  // the host is stopping the code
                        throw new Interrupted($text, self::$stop[2] ?? null);
                    }
                    throw new BondError($text);
                }
                if (!$tagged) {
                    return $message['result'] ?? null;
                }
                try {
                    return self::resolve($message['result'] ?? null);
                } catch (InvalidParams $error) {
                    throw new BondError($error->getMessage());
                }
            } else {
                self::fail('a reply to a request never sent: ' . substr($line, 0, 200));
            }
        }
    }

    // --- Start and end ---------------------------------------------------------------------------
    private static function fail(string $reason): never
    {
        self::writeAll(self::$originalStderr, "bond driver: $reason\n");
        self::$libc->_exit(70);
    }

    /**
     * Runs when the interpreter ends: at end-of-file, on exit() in user code, and after a fatal
     * error (out of memory, max_execution_time, a compile error), which PHP cannot catch. A fatal
     * error is the reply to the request it ended, so that the host never waits for one in vain.
     */
    public static function onShutdown(): void
    {
        if (!self::inDriverProcess()) {
            return;
        }
        ini_set('memory_limit', '-1');
        set_time_limit(0);
        $error = error_get_last();
        if ($error !== null && ($error['type'] & self::FATAL) && self::$serving) {
            $message = "PHP Fatal error: {$error['message']} in {$error['file']} on line " .
                $error['line'];
            $outOfMemory = isset(self::$limits['memory']) &&
                preg_match('/^(Allowed memory size|Out of memory)/', $error['message']);
            try {
                if ($outOfMemory) {
                    self::replyError(end(self::$serving), -32002, $message,
                        ['type' => 'FatalError', 'limit' => 'memory', 'fatal' => true]);
                } else {
                    self::replyError(end(self::$serving), -32000, $message, ['type' => 'FatalError']);
                }
            } catch (\Throwable $ignored) {
            }
            self::$serving = [];
        }
        // Output of shutdown functions registered after this one, of destructors and of the
        // output buffers is forwarded by the last shutdown function and the output handler.
        register_shutdown_function([self::class, 'finalDrain']);
    }

    public static function finalDrain(): void
    {
        if (self::inDriverProcess()) {
            try {
                self::sendLine('');
            } catch (\Throwable $ignored) {
            }
        }
    }

    public static function main(): void
    {
        self::$userFile = Scope::run('return __FILE__;');
        set_error_handler(self::displayError(...));
        try {
            self::openChannels();
        } catch (\Throwable $error) {
            fwrite(fopen('php://stderr', 'w'), 'bond: the PHP driver needs the FFI extension ' .
                "(Debian: php8.2-common) with ffi.enable=1 or preload:\n$error\n");
            // exit() would only end this line: php -a would go on reading stdin, the host's pipe.
            if (function_exists('posix_kill')) {
                posix_kill(posix_getpid(), 15);
            }
            exit(1);
        }
        self::$nonce = 'bond-' . bin2hex(random_bytes(8)) . ':';
        // php -a writes each line it reads to ~/.php_history: the bootstrap line does not belong
        // there, and rewriting the file takes it out again.
        if (function_exists('readline_list_history')) {
            $history = readline_list_history();
            $kept = array_filter($history, fn($line) =>
                !str_starts_with($line, "eval('?>'."));
            if (count($kept) !== count($history)) {
                readline_clear_history();
                foreach ($kept as $line) {
                    readline_add_history($line);
                }
                // The shell finds the file as libedit's tilde_expand("~") does: by the user's
                // passwd entry, not $HOME.
                $home = function_exists('posix_getpwuid')
                    ? (posix_getpwuid(posix_getuid())['dir'] ?? null) : getenv('HOME');
                if ($home && is_file("$home/.php_history")) {
                    @readline_write_history("$home/.php_history");
                }
            }
        }
        self::$makeProxy = \Closure::bind(static function (int $number, string $type): Proxy {
            $proxy = new Proxy();
            $proxy->id = $number;
            $proxy->type = $type;
            return $proxy;
        }, null, Proxy::class);
        self::$proxyNumber = \Closure::bind(static fn(Proxy $proxy): ?int => $proxy->id, null,
            Proxy::class);
        register_shutdown_function([self::class, 'onShutdown']);
        ob_start([self::class, 'onOutput'], 1);
        self::watchInput();
        self::$memoryBaseline = memory_get_usage();
        self::writeAll(self::$originalStderr, self::STDERR_READY_MARK);
        $ready = ['protocol' => self::PROTOCOL_VERSION, 'lang' => 'PHP', 'version' => PHP_VERSION,
            'pid' => self::$pid];
        self::sendLine("\n" . self::dumps(['jsonrpc' => '2.0', 'method' => 'ready',
            'params' => $ready]));
        try {
            self::serve();
        } catch (\Throwable $error) {  // a reply outside any request, or a bug of this driver
            self::fail((string)$error);
        }
    }

}

}  // namespace Bond

namespace {
    /** @internal Runs Bond\Scope's code at the global scope; it has no variables of its own. */
    function __bond_global_scope(): mixed
    {
        \Bond\Scope::$names = \Bond\Scope::bindable();
        for (\Bond\Scope::$i = 0; \Bond\Scope::$i < count(\Bond\Scope::$names); \Bond\Scope::$i++) {
            ${\Bond\Scope::$names[\Bond\Scope::$i]} = &$GLOBALS[\Bond\Scope::$names[\Bond\Scope::$i]];
        }
        \Bond\Scope::$bound[] = \Bond\Scope::$names;
        try {
            return eval(array_pop(\Bond\Scope::$codes));
        } finally {
            \Bond\Scope::$locals = get_defined_vars();
            foreach (array_pop(\Bond\Scope::$bound) as \Bond\Scope::$names[]) {
                if (!array_key_exists(end(\Bond\Scope::$names), \Bond\Scope::$locals)) {
                    unset($GLOBALS[end(\Bond\Scope::$names)]);
                }
            }
            foreach (array_keys(\Bond\Scope::$locals) as \Bond\Scope::$names[]) {
                if (!\Bond\Scope::isSuperglobal(end(\Bond\Scope::$names))) {
                    $GLOBALS[end(\Bond\Scope::$names)] = &${end(\Bond\Scope::$names)};
                }
            }
            \Bond\Scope::$locals = [];
            \Bond\Scope::$names = [];
        }
    }

    \Bond\Driver::main();
}
