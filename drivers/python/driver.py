# The bond driver for Python: speaks the protocol of docs/protocol.md with the host over the
# process's original stdin/stdout. The host sends this file over the pipe at start-up and runs it
# with exec() in a namespace of its own: user code runs in __main__'s globals and never sees it.
# Only the standard library is used. Its Values and Requests sections also run inside Pyodide:
# the Pyodide driver's bootstrap puts them in drivers/pyodide/driver.py, which gives what they
# call (src/bond/driver_registry.cpp, pyodide_python_driver).
# The driver's imports are on every bond's start-up path: the C modules under the standard
# library's pure-Python ones where those only wrap them. json would import re and enum, signal
# enum, threading functools and collections: 15 to 20 ms of a 25 ms interpreter start.
import _signal as signal
import _struct as struct
import _thread
import _weakref as weakref
import atexit
import binascii
import builtins
import faulthandler
import fcntl
import io
import keyword
import os
import resource
import select
import sys
import time

import __main__

try:
    import _json  # json's C encoder and scanner (see _json_encoder)
except ImportError:  # an interpreter without them: the json module's Python code
    _json = None

# The driver's own builtins: the functions defined below look them up here, so user code that
# reassigns or deletes one of builtins (`builtins.len = None`) changes only its own.
__builtins__ = dict(builtins.__dict__)
_LANGUAGE_GLOBALS = frozenset(__builtins__)  # names an export may not take


def _own_copy(module):
    """The module's namespace as it is now, in a module object of the driver's own."""
    copy = type(module)(module.__name__)
    copy.__dict__.update(module.__dict__)
    return copy


# The same for the modules it calls: user code that monkeypatches one of their functions
# (`os.write = ...`, `signal.signal = ...`) changes the module everybody else sees, not these.
# (sys stays itself, the driver sets its streams; its functions the driver calls are taken here.)
(atexit, binascii, faulthandler, fcntl, io, keyword, os, resource, select, signal, struct, _thread,
 time, weakref) = map(_own_copy, (atexit, binascii, faulthandler, fcntl, io, keyword, os, resource,
                                  select, signal, struct, _thread, time, weakref))
_setrecursionlimit = sys.setrecursionlimit


# --- State ----------------------------------------------------------------------------------------
# The driver's own state, module-level and private (user code runs in __main__'s globals).
PROTOCOL_VERSION = 1
STDERR_READY_MARK = b"\n__bond_driver_ready__\n"
DRIVER_FILE = "<bond-driver>"  # the name the loader (loader.py) compiles this file under

_user_globals = __main__.__dict__
_trans_except = False
_next_request_id = 0


class BondError(RuntimeError):
    """An error of the host: an exported C++ function threw, or it was called wrongly."""


class Interrupted(KeyboardInterrupt):
    """Raised in code the host stops: Bond::interrupt(), or a limit (`limit` names it). A
    KeyboardInterrupt, so that `except Exception` does not swallow it."""

    def __init__(self, message, limit=None):
        super().__init__(message)
        self.limit = limit


_objects = {}  # the table: number -> object held for the host
_last_object = 0  # the table's numbers start at 1 and are never reused
# Numbers of the host's objects whose proxies were collected: sent as one `release` notification
# before the driver's next message. A finalizer appends to it at any time (even in a signal handler
# or while a message is written); only a writer holding _output_lock takes from it.
_release_queue = []


_received = set()  # ids of the host's requests received and not yet answered
_input_arrived = False  # SIGIO came while the driver could not look at the input
_stop = None  # (request id, message, limit) of the operation to stop
_stop_raised = False  # raised once: code that swallows it is killed by the host after a grace
_in_user_code = False
_limits = {}  # the running operation's {"cpu", "memory"} and its request id
_memory_baseline = None  # the interpreter's address space once the driver runs
_original_address_space = resource.getrlimit(resource.RLIMIT_AS)


_in_forked_child = False  # set by _after_fork_in_child: cheaper than getpid() on every call
_serving_thread = _thread.get_ident()
_input = bytearray()  # read from the protocol's input, not yet taken as lines
_scanned = 0  # _input[:_scanned] holds no newline
_waiting_for_host = False  # the main thread waits for the host's next message
_nesting = 0
_exiting = False
_base_recursion_limit = sys.getrecursionlimit()
_FRAMES_PER_NESTING = 10  # the driver's own frames per level are fewer


# --- Channels and output --------------------------------------------------------------------------
# The protocol moves to private copies of fd 0 and 1. fd 0 becomes /dev/null, so user code that
# reads stdin cannot eat protocol bytes; fd 1 and 2 become pipes that this driver reads, so the
# output of child processes (os.system) reaches the host as output messages instead of corrupting
# the protocol. The copies are not inherited by child processes (os.dup's default).
_protocol_in = os.dup(0)
_protocol_out = os.dup(1)
_original_stderr = os.dup(2)


def _redirect(fd, target):
    os.dup2(target, fd)
    os.close(target)


_redirect(0, os.open(os.devnull, os.O_RDONLY))
_stdout_read, _stdout_write = os.pipe()
_stderr_read, _stderr_write = os.pipe()
_redirect(1, _stdout_write)
_redirect(2, _stderr_write)
os.set_blocking(_stdout_read, False)
os.set_blocking(_stderr_read, False)
_output_pipes = {_stdout_read: "stdout", _stderr_read: "stderr"}
# Polled before every message the driver sends (see _drain_output_pipes): a poll object made once
# costs less per message than select() of a list built each time.
_output_poll = select.poll()
for _fd in _output_pipes:
    _output_poll.register(_fd, select.POLLIN)


class _OutputLock:
    """Held around every write to the protocol channel. Before a protocol message is written the
    output pipes are drained, so output written before a reply (even by a child process) reaches
    the host before the reply. Reentrant, because a signal handler or a __del__ may print while
    this thread is writing: entering again yields True (nested), and a nested writer only queues
    its text for the outer one to send."""

    def __init__(self):
        self._lock = _thread.RLock()
        self._depth = 0
        self.deferred = []  # protocol lines a nested writer could not send: the outer one sends them

    def __enter__(self):
        self._lock.acquire()
        self._depth += 1
        return self._depth > 1

    def __exit__(self, *exc_info):
        try:
            while self._depth == 1 and self.deferred:
                _write_message(self.deferred.pop(0))
        finally:
            self._depth -= 1
            self._lock.release()


_output_lock = _OutputLock()


def _write_message(line):
    """Writes one protocol line, after a `release` of the proxies collected since the last one;
    the caller holds _output_lock and is not nested in it."""
    if _release_queue:
        numbers = _release_queue[:]
        del _release_queue[:len(numbers)]  # what a finalizer appends meanwhile stays queued
        _write_all(_protocol_out, _dumps(
            {"jsonrpc": "2.0", "method": "release", "params": {"objects": numbers}}))
    _write_all(_protocol_out, line)


def _write_all(fd, data):
    written = os.write(fd, data)
    if written < len(data):  # a line longer than the pipe takes at once
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view):]


def _output_line(channel, data):
    try:
        payload = data.decode("utf-8")
    except UnicodeDecodeError:
        payload = {"$bytes": _base64(data)}
    return _dumps(
        {"jsonrpc": "2.0", "method": "output", "params": {"channel": channel, "data": payload}}
    )


def _flush_pending_text():
    _sys_stdout.flush_buffer()
    _sys_stderr.flush_buffer()


def _drain_output_pipes():
    """Forwards what the fd-level pipes hold; the caller holds _output_lock.

    Every text write drains first, so whatever the pipes hold was written after any text still
    pending: that text goes first."""
    if not _output_pipes:
        return
    readable = _output_poll.poll(0)  # (stdout first, as registered)
    if readable:
        _flush_pending_text()
    for fd, _ in readable:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:  # user code closed every writer: stop watching
                del _output_pipes[fd]
                _output_poll.unregister(fd)
                break
            _write_message(_output_line(_output_pipes[fd], chunk))


def _send_line(line):
    with _output_lock as nested:
        if nested:
            raise RuntimeError("cannot talk to the host from code that runs while writing output")
        _drain_output_pipes()
        _flush_pending_text()
        _write_message(line)


def _pump_output_pipes():
    """The output thread: forwards child processes' output while a call runs, so that a full pipe
    never blocks them. It also watches the protocol's input for its end (POLLHUP, asked for
    without POLLIN, so requests do not wake it): the host went away while code runs, and code
    that never returns to the interpreter (a long call into C) must not run on unattended."""
    poller = select.poll()
    watched = set(_output_pipes)
    for fd in watched:
        poller.register(fd, select.POLLIN)
    poller.register(_protocol_in, 0)
    try:
        while True:
            events = poller.poll()
            if any(fd == _protocol_in for fd, _ in events):
                poller.unregister(_protocol_in)
                if _received and not _waiting_for_host:
                    os._exit(1)
            with _output_lock:
                _drain_output_pipes()
            for fd in watched - set(_output_pipes):  # user code closed every writer
                poller.unregister(fd)
                watched.discard(fd)
    except OSError as error:  # the protocol channel is gone: the host will see the end
        _write_all(_original_stderr, ("bond driver: output pump: %s\n" % error).encode())


class _ProtocolStream(io.TextIOBase):
    """sys.stdout / sys.stderr: text goes to the host as output messages, a line at a time."""

    _MESSAGE_CHARACTERS = 65536  # one output message at most; longer text is split

    def __init__(self, channel, fd):
        super().__init__()
        self.channel, self._fd = channel, fd
        self._pending, self._pending_size = [], 0
        self._buffer = None

    encoding = "utf-8"
    errors = "surrogateescape"
    line_buffering = True

    @property
    def name(self):
        return "<%s>" % self.channel

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        _raise_stop()  # code that prints in a loop stops here, never halfway through a message
        with _driver_code(), _output_lock as nested:
            if not nested:
                _drain_output_pipes()
                (_sys_stderr if self is _sys_stdout else _sys_stdout).flush_buffer()
            self._pending.append(text)
            self._pending_size += len(text)
            if not nested and ("\n" in text or self._pending_size > 8192):
                self.flush_buffer()
        return len(text)

    def flush_buffer(self):
        """Sends what is pending; the caller holds _output_lock."""
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending, self._pending_size = [], 0
        for start in range(0, len(text), self._MESSAGE_CHARACTERS):
            _write_message(_output_line(self.channel, _encode_text(
                text[start:start + self._MESSAGE_CHARACTERS])))

    def flush(self):
        with _driver_code(), _output_lock as nested:
            if not nested:
                self.flush_buffer()

    def reconfigure(self, **settings):
        """Accepted for compatibility; the stream's encoding and buffering are the driver's."""

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def writable(self):
        return True

    @property
    def buffer(self):
        if self._buffer is None:
            self._buffer = _BinaryView(self)
        return self._buffer


def _encode_text(text):
    """Text to bytes, never failing: bytes smuggled in by surrogateescape come back as they were,
    and other lone surrogates are passed through as their (invalid UTF-8) encoding."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


class _BinaryView(io.BufferedIOBase):
    """sys.stdout.buffer: bytes written here join the same ordered stream."""

    def __init__(self, stream):
        super().__init__()
        self._stream = stream

    def writable(self):
        return True

    def write(self, data):
        self._stream.write(bytes(data).decode("utf-8", "surrogateescape"))
        return len(data)

    def flush(self):
        self._stream.flush()

    def fileno(self):
        return self._stream.fileno()


_sys_stdout = _ProtocolStream("stdout", 1)
_sys_stderr = _ProtocolStream("stderr", 2)
sys.stdout = sys.__stdout__ = _sys_stdout
sys.stderr = sys.__stderr__ = _sys_stderr


# --- Values ---------------------------------------------------------------------------------------
# What JSON has no word for crosses as a tag: bytes as {"$bytes"}; any other object (an instance,
# a function, a file, a generator, a set) is put in the table of objects held for the host and
# sent as {"$obj": N, "type": T}; the host names it again as {"$yours": N}. The host's own objects
# arrive as {"$obj": N, "type": T} too and become BondProxy objects, sent back as {"$yours": N}.
# {"$code": S} is an expression evaluated in the user's globals (bond::Ref).
# base64 (and the re it imports) is loaded when bytes first cross: a bond that never moves bytes
# starts without it.
def _base64(data):
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _hold(value):
    """Puts `value` in the table under a new number: its tag."""
    global _last_object
    _last_object += 1
    _objects[_last_object] = value
    return {"$obj": _last_object, "type": type(value).__qualname__}


def _as_object(value):
    """The tag of a result the host asked to keep ("keep": true), whatever it is."""
    if type(value) is BondProxy:
        return {"$yours": _proxy_number(value)}
    return _hold(value)


def _encode_bytes(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": _base64(bytes(value))}
    raise TypeError("cannot serialize a value of type %s: %r" % (type(value).__name__, value))


def _encode_value(value):
    """The JSON encoder's hook for what JSON cannot carry: bytes, proxies, and objects to hold."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": _base64(bytes(value))}
    if type(value) is BondProxy:
        return {"$yours": _proxy_number(value)}
    return _hold(value)


class _UnknownObject(Exception):
    """{"$yours": N} names no entry of the table: the request fails with -32602."""

    def __init__(self, number):
        super().__init__(_unknown_object_message(number))


def _unknown_object_message(number):
    return "no object %s in the table: it was released or never held" % (number,)


def _is_number(value):
    return type(value) is int and value >= 0


def _decode_object(obj):
    """The JSON decoder's object hook: a tag of exactly its shape is what it stands for; any other
    dict is itself. {"$code"} is evaluated here: a line that holds one is decoded this way only
    when user code may run (see _serve)."""
    size = len(obj)
    if size == 1:
        if "$bytes" in obj:
            if isinstance(obj["$bytes"], str):
                try:
                    return binascii.a2b_base64(obj["$bytes"], strict_mode=True)
                except (binascii.Error, ValueError):
                    pass  # not bytes after all: an ordinary dict
        elif "$yours" in obj:
            number = obj["$yours"]
            if _is_number(number):
                try:
                    return _objects[number]
                except KeyError:
                    raise _UnknownObject(number) from None
        elif "$code" in obj:
            if isinstance(obj["$code"], str):
                return _evaluate(obj["$code"])
    elif size == 2 and "$obj" in obj and "type" in obj:
        number, type_name = obj["$obj"], obj["type"]
        if _is_number(number) and isinstance(type_name, str):
            return _make_proxy(number, type_name)
    return obj


def _json_encoder(default):
    """JSONEncoder(...).encode through json's C encoder alone: JSONEncoder's Python code looks up
    builtins (isinstance) that user code may have replaced."""
    if _json is None:
        import json
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                                default=default).encode
    make, strings = _json.make_encoder, _json.encode_basestring

    def encode(value):
        # ({}: the markers that find a circular value, fresh for each message)
        return "".join(make({}, default, strings, None, ":", ",", False, False, False)(value, 0))

    return encode


class _DecoderSettings:
    """What json's C scanner reads of a JSONDecoder: its defaults, and an object hook."""
    strict = True
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__

    def __init__(self, object_hook):
        self.object_hook = object_hook
        self.memo = {}


def _json_decoder(object_hook=None):
    """JSONDecoder(...).decode through json's C scanner alone (see _json_encoder)."""
    if _json is None:
        import json
        return json.JSONDecoder(object_hook=object_hook).decode
    scan = _json.make_scanner(_DecoderSettings(object_hook))

    def decode(text):
        try:
            value, end = scan(text, len(text) - len(text.lstrip()))
        except StopIteration:
            raise ValueError("not JSON: %r" % (text[:80],)) from None
        if text[end:].strip():
            raise ValueError("not one JSON value: %r" % (text[:80],))
        return value

    return decode


_encode_json = _json_encoder(_encode_value)
# For what must not put objects in the table (an exception's args in error data).
_encode_plain_json = _json_encoder(_encode_bytes)
_decode_tagged_json = _json_decoder(_decode_object)
_decode_plain_json = _json_decoder()


def _decode(line):
    """A protocol line (bytes) as Python values; ValueError when it is not UTF-8 JSON. The object
    hook that turns tags into values costs a call per object: only where one can be (a tag's key
    starts with "$")."""
    decode = _decode_tagged_json if b'"$' in line else _decode_plain_json
    return decode(line.decode("utf-8"))


def _holds_code(line):
    return b'"$' in line and b'"$code"' in line


def _dumps(message):
    """One protocol line; raises TypeError/ValueError for what JSON cannot carry. Objects it
    meets are put in the table: use _dumps_values, which takes them out again when it fails."""
    return _encode_json(message).encode("utf-8") + b"\n"


_UNSERIALIZABLE = (TypeError, ValueError, RecursionError)  # RecursionError: a value too deep


def _dumps_values(message):
    """A line carrying values: on failure (NaN, a lone surrogate, too deep), the objects it put
    in the table are dropped again, as they were never sent."""
    first = _last_object
    try:
        return _dumps(message)
    except BaseException:
        for number in range(first + 1, _last_object + 1):
            _objects.pop(number, None)
        raise


if _json is not None:
    _encode_string = _json.encode_basestring  # a str as JSON, as the encoder writes it
else:
    _encode_string = __import__("json").encoder.encode_basestring


def _result_line(request_id, result):
    """The reply to request `request_id`: the usual small results (an integer, a string, null)
    written as the encoder would write them, without building and walking a message for it."""
    kind = type(result)
    if type(request_id) is int:
        if kind is int:
            return b'{"jsonrpc":"2.0","id":%d,"result":%d}\n' % (request_id, result)
        if kind is str:  # (a lone surrogate fails in encode, as in _dumps)
            return ('{"jsonrpc":"2.0","id":%d,"result":%s}\n' % (
                request_id, _encode_string(result))).encode("utf-8")
        if result is None:
            return b'{"jsonrpc":"2.0","id":%d,"result":null}\n' % request_id
    return _dumps_values({"jsonrpc": "2.0", "id": request_id, "result": result})


class BondProxy:
    """An object of the host (of another bond, lent through the host): attribute reads, attribute
    writes and calls are sent to the host as `get`, `set` and `invoke` requests. `proxy.m(x)` reads
    `m` (the owner answers a callable bound to its object) and calls that. Names that start and
    end with "__" are Python's own protocols and are never asked for. Once collected, the proxy's
    number is released to the host."""

    __slots__ = ("__number", "__type", "__weakref__")

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") or name.startswith("_BondProxy__"):
            raise AttributeError(name)
        return _request("get", {"object": self.__number, "name": name}, self)

    def __setattr__(self, name, value):
        _request("set", {"object": self.__number, "name": name, "value": value}, self)

    def __delattr__(self, name):
        raise AttributeError("cannot delete attribute %r of %r" % (name, self))

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("%r takes no keyword arguments" % (self,))
        return _request("invoke", {"object": self.__number, "method": None, "args": list(args)},
                        self)

    def __iter__(self):
        """Iterates over the object's value (a `get` of the object itself, one round trip)."""
        value = _request("get", {"object": self.__number, "name": None}, self)
        if type(value) is BondProxy:
            raise TypeError("%r is not iterable: its object has no JSON value" % (self,))
        return iter(value)

    def __repr__(self):
        return "<bond proxy of %s #%d>" % (self.__type, self.__number)

    def __reduce_ex__(self, protocol):
        raise TypeError("%r cannot be copied or pickled" % (self,))


_proxy_number = BondProxy._BondProxy__number.__get__
_set_proxy_number = BondProxy._BondProxy__number.__set__
_set_proxy_type = BondProxy._BondProxy__type.__set__


def _make_proxy(number, type_name):
    """The proxy of the host's object `number`: one per number, so that an object the host sends
    twice in one message is one proxy here (`is` holds)."""
    reference = _proxy_references.get(number)
    proxy = reference() if reference is not None else None
    if proxy is None:
        proxy = object.__new__(BondProxy)
        _set_proxy_number(proxy, number)
        _set_proxy_type(proxy, type_name)
        _watch_proxy(proxy, number)
    return proxy


_proxy_references = {}  # number -> a weak reference to its proxy, until it fires


def _watch_proxy(proxy, number):
    """Queues `number` for release when `proxy` is collected. (weakref.finalize would do, but
    its Python code looks up builtins that user code may have replaced.)"""

    def collected(reference):
        _proxy_references.pop(number, None)
        _release_queue.append(number)

    _proxy_references[number] = weakref.ref(proxy, collected)


# --- Stopping and limits --------------------------------------------------------------------------
# The host stops code in-band (docs/protocol.md, Limits): an `interrupt` notification names the
# top-level request to stop. The main thread reads the protocol itself. While user code runs, the
# input raises SIGIO when data arrives (O_ASYNC, owned by the main thread, so that the signal also
# ends a system call the code is blocked in); the handler reads the interrupt and raises
# Interrupted in the code. Elsewhere a signal only notes that input came, and the stop waits for
# the next safe point (the code starts, an exported function returns, the code prints), so that
# no protocol message is cut in half. The input is owned only while user code runs (see _watch):
# a SIGIO for every request cost the interpreter more CPU time (about 10 us a call, measured)
# than the two fcntl() that take and give up the ownership. An interrupt that comes in the moment
# between the driver's read and taking the ownership raises no signal: the host sends it once
# more a quarter of the way into the grace period (docs/protocol.md), which the code, still
# running then, gets. Looking at the input for it (a system call per request) cost more.
# The CPU limit is an ITIMER_PROF timer (SIGPROF); the memory limit is RLIMIT_AS, which makes
# allocations raise MemoryError.
class _driver_code:
    """Marks driver code called from user code: a stop waits until it is done, and is raised as
    the user code goes on (a stop that came while the driver wrote output is not lost)."""

    def __enter__(self):
        global _in_user_code
        self._was, _in_user_code = _in_user_code, False

    def __exit__(self, error_type, *exc_info):
        global _in_user_code
        _in_user_code = self._was
        if error_type is None:
            _raise_stop()


def _request_stop(request_id, message, limit=None):
    global _stop
    if _stop is None and request_id in _received:
        _stop = (request_id, message, limit)
        return True
    return False


def _raise_stop():
    """At a safe point: takes the interrupts that arrived, and raises the pending stop in the code
    running now, once, if that is user code."""
    global _stop_raised, _input_arrived
    if not _in_user_code:
        return
    if _input_arrived:
        _input_arrived = False
        _take_interrupts()
    if _stop is not None and not _stop_raised:
        _stop_raised = True
        raise Interrupted(_stop[1], _stop[2])


_input_poll = select.poll()  # the protocol's input, for _take_interrupts
_input_poll.register(_protocol_in, select.POLLIN)


def _take_interrupts():
    """Reads what the protocol's input holds now, without blocking, and takes the interrupts out
    of it; only while user code runs, when the host sends nothing else. Its end: the host is gone,
    and the code must not run on unattended."""
    global _scanned
    while _input_poll.poll(0):
        chunk = os.read(_protocol_in, 1 << 16)
        if not chunk:
            os._exit(1)
        _input.extend(chunk)
    if b'"interrupt"' not in _input:
        return
    lines = _input.split(b"\n")
    kept = [line for line in lines[:-1] if not _take_interrupt(line)]
    kept.append(lines[-1])  # the start of a line still arriving
    _input[:] = b"\n".join(kept)
    _scanned = 0


def _take_interrupt(line):
    """True when `line` is an interrupt notification, now taken."""
    if b'"interrupt"' not in line:
        return False
    try:
        message = _decode(line)
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("method") != "interrupt" or "id" in message:
        return False
    _note_interrupt(message.get("params"))
    return True


def _note_interrupt(params):
    if isinstance(params, dict):
        _request_stop(params.get("id"), params.get("reason") or "the code was interrupted")


def _on_input_signal(signum, frame):
    global _input_arrived
    _input_arrived = True
    if _in_user_code:
        _raise_stop()


def _on_stop_signal(signum, frame):
    if signum == signal.SIGPROF and "cpu" in _limits:
        request_id = _limits["id"]
        message = "the code used more than its CPU time limit of %g s" % _limits["cpu"]
        if _request_stop(request_id, message, "cpu"):
            _send_notification("limit", {"id": request_id, "limit": "cpu"})
    _raise_stop()


def _send_notification(method, params):
    """From a signal handler too: a line that would cut into one being written waits for it."""
    line = _dumps({"jsonrpc": "2.0", "method": method, "params": params})
    with _output_lock as nested:
        if nested:
            _output_lock.deferred.append(line)
        else:
            _drain_output_pipes()
            _flush_pending_text()
            _write_message(line)


def _address_space():
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _apply_limits(request_id, limits):
    global _limits, _memory_baseline
    if not isinstance(limits, dict):
        return
    cpu, memory = limits.get("cpu"), limits.get("memory")
    _limits = {"id": request_id}
    if isinstance(cpu, (int, float)) and cpu > 0:
        _limits["cpu"] = cpu
        signal.setitimer(signal.ITIMER_PROF, cpu)
    if isinstance(memory, int) and memory > 0:
        if _memory_baseline is None:
            _memory_baseline = _address_space()
        soft, hard = _original_address_space
        ceiling = _memory_baseline + memory
        if hard != resource.RLIM_INFINITY:
            ceiling = min(ceiling, hard)
        _limits["memory"] = memory
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


def _lift_limits():
    global _limits
    if "cpu" in _limits:
        signal.setitimer(signal.ITIMER_PROF, 0)
    if "memory" in _limits:
        resource.setrlimit(resource.RLIMIT_AS, _original_address_space)
    _limits = {}


def _stop_error(error):
    """The -32002 error data of an exception that ends a stopped request, or None."""
    if isinstance(error, Interrupted):
        return {"type": type(error).__name__, "limit": error.limit}
    if isinstance(error, MemoryError) and "memory" in _limits:
        return {"type": "MemoryError", "limit": "memory"}
    return None


_watching = False  # the input raises SIGIO now (see _watch)
_owner_command = None  # fcntl's command and arguments that give the input an owner, or none
_owner_on = _owner_off = None


def _watch_input():
    """Makes the protocol's input able to raise SIGIO in the main thread (O_ASYNC, for good:
    switching it is dear); _watch gives it the owner the signal goes to."""
    global _owner_command, _owner_on, _owner_off
    try:
        owner = struct.pack("ii", 0, _thread.get_native_id())  # F_OWNER_TID: this thread
        command = getattr(fcntl, "F_SETOWN_EX", 15)
        fcntl.fcntl(_protocol_in, command, struct.pack("ii", 0, 0))
        _owner_command, _owner_on, _owner_off = command, owner, struct.pack("ii", 0, 0)
    except OSError:
        _owner_command, _owner_on, _owner_off = fcntl.F_SETOWN, os.getpid(), 0
        fcntl.fcntl(_protocol_in, _owner_command, _owner_off)
    flags = fcntl.fcntl(_protocol_in, fcntl.F_GETFL)
    fcntl.fcntl(_protocol_in, fcntl.F_SETFL, flags | os.O_ASYNC)


def _watch(on):
    """Gives the input an owner (on) or none: SIGIO while user code runs, and no signal for the
    messages the driver reads itself. An interrupt read with the request already is taken at the
    next safe point. Returns the previous state."""
    global _watching, _input_arrived
    was = _watching
    if on != was and _owner_command is not None and not _in_forked_child:
        fcntl.fcntl(_protocol_in, _owner_command, _owner_on if on else _owner_off)
        _watching = on
        if on and b'"interrupt"' in _input:
            _input_arrived = True
    return was


# --- Requests from the host -----------------------------------------------------------------------
class _InvalidParams(Exception):
    pass


def _code(params, key="code"):
    code = params.get(key)
    if not isinstance(code, str):
        raise _InvalidParams('"%s" must be a string' % key)
    return code


# Code sent without a file name is named as Python names a string of code (python -c).
_NO_FILE = "<string>"


def _eval(params):
    return eval(compile(_code(params), _NO_FILE, "eval"), _user_globals)


def _eval_block(params):
    code, file = _code(params), params.get("file")
    if not isinstance(file, str) or not file:
        file = _NO_FILE
    exec(compile(code, file, "exec"), _user_globals)


# call's name expressions and {"$code"} expressions, compiled once: most repeat a few names
_compiled_names = {}
_MISSING = object()


def _evaluate(expression):
    """The value of an expression in the user's globals."""
    compiled = _compiled_names.get(expression)
    if compiled is None:
        if len(_compiled_names) > 1024:
            _compiled_names.clear()
        plain = expression.isidentifier() and not keyword.iskeyword(expression)
        compiled = _compiled_names[expression] = (plain, compile(expression, _NO_FILE, "eval"))
    plain, code = compiled
    # A global's plain name is looked up directly, which is what eval would find, sooner; a
    # builtin, an undefined name or an expression is evaluated.
    value = _user_globals.get(expression, _MISSING) if plain else _MISSING
    if value is _MISSING:
        value = eval(code, _user_globals)
    return value


def _args(params):
    args = params.get("args", [])
    if not isinstance(args, list):
        raise _InvalidParams('"args" must be an array')
    return args


def _call(params):
    return _evaluate(_code(params, "name"))(*_args(params))


def _held(params):
    """The table's object that the request names."""
    number = params.get("object")
    if not _is_number(number):
        raise _InvalidParams('"object" must be an object number')
    try:
        return _objects[number]
    except KeyError:
        raise _InvalidParams(_unknown_object_message(number)) from None


def _name(params, key):
    name = params.get(key)
    if name is not None and not isinstance(name, str):
        raise _InvalidParams('"%s" must be a string or null' % key)
    return name


def _invoke(params):
    target, method, args = _held(params), _name(params, "method"), _args(params)
    if method is None:
        return target(*args)
    return getattr(target, method)(*args)


def _get(params):
    target, name = _held(params), _name(params, "name")
    return target if name is None else getattr(target, name)


def _set(params):
    target = _held(params)
    setattr(target, _code(params, "name"), params.get("value"))


def _count_objects(params):
    return len(_objects)


def _release(params):
    """The host's `release` notification: it no longer holds these numbers (unknown ones are
    ignored). Dropping an entry can run the object's __del__."""
    numbers = params.get("objects") if isinstance(params, dict) else None
    if isinstance(numbers, list):
        for number in numbers:
            if _is_number(number):
                _objects.pop(number, None)


def _make_export(name):
    def exported(*args):
        return _request("call", {"name": name, "args": list(args)})

    exported.__name__ = exported.__qualname__ = name
    return exported


def _export(params):
    name = params.get("name")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise _InvalidParams("%r is not a valid Python function name" % (name,))
    if name in _LANGUAGE_GLOBALS:
        raise _InvalidParams("%r is a builtin of Python: an export may not replace it" % (name,))
    _user_globals[name] = _make_export(name)


def _configure(params):
    global _trans_except
    _trans_except = bool(params.get("trans_except", _trans_except))


_METHODS = {
    "eval": _eval,
    "eval_block": _eval_block,
    "call": _call,
    "invoke": _invoke,
    "get": _get,
    "set": _set,
    "count_objects": _count_objects,
    "export": _export,
    "configure": _configure,
}
_KEEPING = frozenset(("eval", "call", "invoke", "get"))  # methods whose result "keep" can hold


def _describe(error):
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def _stack(error):
    """Where `error` was raised, innermost frame first, without the driver's frames; a syntax
    error's place is its first frame."""
    stack = []
    if isinstance(error, SyntaxError) and error.filename != DRIVER_FILE:
        stack.append({"file": error.filename or _NO_FILE, "line": error.lineno or 0,
                      "function": ""})
    frames = []
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename != DRIVER_FILE:
            frames.append({"file": code.co_filename, "line": tb.tb_lineno or 0,
                           "function": code.co_name})
        tb = tb.tb_next
    return stack + frames[::-1]


def _error_data(error):
    data = {"type": type(error).__name__, "stack": _stack(error)}
    if _trans_except:
        exception = {"type": type(error).__name__, "module": type(error).__module__,
                     "message": str(error), "args": list(error.args)}
        try:
            _encode_plain_json(exception)  # no objects: args it cannot carry are sent as repr
        except _UNSERIALIZABLE:
            exception["args"] = [repr(arg) for arg in error.args]
        data["exception"] = exception
    return data


def _reply_error(request_id, code, message, data=None):
    _received.discard(request_id)  # answered: the input's end no longer means an abandoned call
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    _send_line(_dumps({"jsonrpc": "2.0", "id": request_id, "error": error}))


def _handle_request(message, line=None):
    """`line`: the message's line, when its params hold {"$code"} and are decoded only now."""
    request_id = message.get("id")
    try:
        _answer_request(request_id, message, line)
    finally:
        _received.discard(request_id)
        _end_stop(request_id)


def _end_stop(request_id):
    global _stop, _stop_raised
    if _stop is not None and _stop[0] == request_id:
        _stop, _stop_raised = None, False


def _answer_request(request_id, message, line=None):
    global _in_user_code
    method = message.get("method")
    params = message.get("params")
    if not isinstance(params, dict):
        params = {}
    handler = _METHODS.get(method)
    if handler is None:
        return _reply_error(request_id, -32601, "unknown method %r" % (method,))
    limits = params.get("limits")
    try:
        if limits is not None:
            _apply_limits(request_id, limits)
        watched = _watch(True)
        _in_user_code = True
        try:
            _raise_stop()  # stopped before it started
            if line is not None:  # its {"$code"} values are evaluated as user code, now
                params = _decode_tagged_json(line.decode("utf-8")).get("params")
                if not isinstance(params, dict):
                    params = {}
            result = handler(params)
            if method in _KEEPING and params.get("keep"):
                result = _as_object(result)
        finally:
            _in_user_code = False
            _watch(watched)
    except (_InvalidParams, _UnknownObject) as error:
        if limits is not None:
            _lift_limits()
        return _reply_error(request_id, -32602, str(error))
    except SystemExit as error:  # exit() in user code ends the interpreter, as it would anywhere
        _exit_like_python(error.code)
    except BaseException as error:
        stop = _stop_error(error)
        if limits is not None:
            _lift_limits()
        if stop is not None:
            return _reply_error(request_id, -32002, _describe(error), stop)
        return _reply_error(request_id, -32000, _describe(error), _error_data(error))
    if limits is not None:
        _lift_limits()
    if request_id is None:
        return
    try:
        line = _result_line(request_id, result)
    except _UNSERIALIZABLE as error:  # ValueError: NaN, lone surrogates; RecursionError: depth
        return _reply_error(request_id, -32001, "cannot serialize the result: %s" % error)
    _received.discard(request_id)  # before the reply: the host may close the bond right after it
    _send_line(line)


# --- Calls to the host ----------------------------------------------------------------------------
def _request(method, params, proxy=None):
    """Sends a request to the host and serves the host's requests until its reply comes: a call
    of an exported function, or (`proxy` given) an operation on a proxy's object."""
    global _next_request_id, _nesting
    # The protocol nests strictly: only the thread serving the host, in the driver's own process,
    # can make a request and read its reply.
    if _in_forked_child or _exiting or _thread.get_ident() != _serving_thread:
        raise _misplaced_request(params, proxy)
    _raise_stop()
    _next_request_id += 1
    request_id = _next_request_id
    try:
        line = _dumps_values(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    except _UNSERIALIZABLE as error:
        raise TypeError("cannot serialize the arguments of %s: %s" % (
            "%s()" % params.get("name") if proxy is None else repr(proxy), error)) from None
    # Each level of nesting through the host costs a few frames of this driver: grant them, so
    # that deep recursion across the bond leaves user code its usual recursion budget.
    _nesting += 1
    _setrecursionlimit(_base_recursion_limit + _nesting * _FRAMES_PER_NESTING)
    try:
        with _driver_code():
            watched = _watch(False)  # the driver reads the input itself meanwhile
            try:
                _send_line(line)
                result = _serve(request_id)
            finally:
                _watch(watched)
    finally:
        _nesting -= 1
        _setrecursionlimit(_base_recursion_limit + _nesting * _FRAMES_PER_NESTING)
    _raise_stop()  # the host's function returned, but the code was stopped meanwhile
    return result


def _misplaced_request(params, proxy):
    """Why the host cannot be asked from here: a forked process, another thread, a closing bond."""
    if proxy is None:
        what, verb = "%s() is exported by the bond's host and" % params.get("name"), "called"
    else:
        what, verb = "%r is an object of the bond's host and" % (proxy,), "used"
    if _in_forked_child:
        return RuntimeError("%s cannot be %s from a forked process" % (what, verb))
    if _exiting:
        if proxy is None:
            return BondError("%s() cannot be called: the bond is closing" % params.get("name"))
        return BondError("%r cannot be used: the bond is closing" % (proxy,))
    return RuntimeError("%s can only be %s from the thread that runs the host's requests" % (
        what, verb))


def _reply_raises(error):
    """The exception an error reply of the host raises in the code that called it."""
    global _stop_raised
    message = error.get("message", "error in the host") if isinstance(error, dict) else "error"
    if isinstance(error, dict) and error.get("code") == -32002:  # the host is stopping the code
        if _stop is None:  # no stop of this driver's (its interrupt was not seen): raise it anyway
            return Interrupted(message)
        _stop_raised = True
        return Interrupted(message, _stop[2])
    return BondError(message)


# --- The serving loop -----------------------------------------------------------------------------
def _read_line():
    """The next protocol line (bytes, with its newline), or None at the end of the input."""
    global _scanned, _waiting_for_host
    while True:
        end = _input.find(b"\n", _scanned)
        if end >= 0:
            line = bytes(_input[:end + 1])
            del _input[:end + 1]
            _scanned = 0
            return line
        _scanned = len(_input)  # a long line arrives in many reads: each is searched once
        _waiting_for_host = True
        try:
            chunk = os.read(_protocol_in, 1 << 16)
        finally:
            _waiting_for_host = False
        if not chunk:
            return None
        _input.extend(chunk)


def _serve(awaited_id=None):
    while True:
        line = _read_line()
        if line is None:
            _host_closed()
        # {"$code"} runs user code: a request holding one is decoded again when its code runs
        # (limits and interrupts apply); here it is only looked at.
        deferred = _holds_code(line)
        unknown = None
        try:
            try:
                message = _decode_plain_json(line.decode("utf-8")) if deferred else _decode(line)
            except _UnknownObject as error:  # {"$yours": N} of no entry: answered below
                unknown = error
                message = _decode_plain_json(line.decode("utf-8"))
        except ValueError as error:
            _reply_error(None, -32700, "parse error: %s" % error)
            continue
        if not isinstance(message, dict):
            _reply_error(None, -32600, "a message must be a JSON object")
        elif "method" in message:
            if "id" not in message:
                if message["method"] == "interrupt":
                    # While an exported function runs; an interrupt of a request already answered
                    # interrupts nothing.
                    _note_interrupt(message.get("params"))
                    continue
                if message["method"] == "release":
                    _release(message.get("params"))
                    continue
            if "id" in message:
                _received.add(message["id"])
            if unknown is not None:
                _reply_error(message.get("id"), -32602, str(unknown))
                _received.discard(message.get("id"))
                continue
            _handle_request(message, line if deferred else None)
        elif message.get("id") == awaited_id and awaited_id is not None:
            if "error" in message:
                raise _reply_raises(message["error"])
            if unknown is not None:
                raise BondError(str(unknown))
            if deferred:
                try:
                    message = _decode(line)
                except _UnknownObject as error:
                    raise BondError(str(error)) from None
            return message.get("result")
        else:
            _fail("a reply to a request never sent: %r" % (_encode_plain_json(message)[:200],))


# --- Start and end --------------------------------------------------------------------------------
def _exit(status):
    with _output_lock:
        _drain_output_pipes()
        _flush_pending_text()
    os._exit(status)


def _exit_like_python(code, grace=None):
    """Ends the interpreter as an uncaught SystemExit(code) would: the message of a code that is
    not a number goes to stderr, other threads are waited for (for `grace` seconds at most, when
    given), atexit functions run."""
    global _exiting
    _exiting = True  # atexit functions must not call the host that is closing the bond
    if code is not None and not isinstance(code, int):
        sys.stderr.write("%s\n" % (code,))
        code = 1
    deadline = None if grace is None else time.monotonic() + grace
    # The user's threads, if user code made any: from threading's table, not its functions, which
    # user code may have reassigned (`threading.current_thread = None`); atexit runs regardless.
    try:
        threading = sys.modules.get("threading")
        threads = list(vars(threading).get("_active", {}).values()) if threading else []
        own = _thread.get_ident()
        for thread in threads:
            if thread.ident != own and not thread.daemon:
                thread.join(None if deadline is None else max(0, deadline - time.monotonic()))
    except Exception:
        pass
    atexit._run_exitfuncs()
    _exit(code or 0)


# As long as the host's close() waits for the interpreter to end on its own: past that, a host
# that is still there kills it, and one that is gone (killed) no longer can.
_CLOSE_GRACE_SECONDS = 2


def _host_closed():
    """The end of the protocol's input: the host closed the bond, or went away."""
    _exit_like_python(0, _CLOSE_GRACE_SECONDS)


def _after_fork_in_child():
    """A forked child (multiprocessing, os.fork) must not speak on the parent's protocol channel:
    its output goes to fd 1 and 2, the pipes the parent's driver forwards."""
    global _output_lock, _output_pipes, _in_forked_child
    _in_forked_child = True
    _output_lock = _OutputLock()  # another thread of the parent may have held it
    _output_pipes = {}
    del _release_queue[:]  # the parent's proxies: the child never speaks to the host
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.signal(signal.SIGIO, signal.SIG_IGN)  # the input's signals are the parent's
    for fd in (_protocol_in, _protocol_out, _stdout_read, _stderr_read):
        try:
            os.close(fd)
        except OSError:
            pass
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), line_buffering=True, write_through=True)
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), line_buffering=True, write_through=True,
        errors="backslashreplace")


def _fail(reason):
    _write_all(_original_stderr, ("bond driver: %s\n" % reason).encode("utf-8", "replace"))
    os._exit(70)


# A fatal error of the interpreter (a crash in C code) is written where the host reads it.
_fault_log = open(_original_stderr, "w", closefd=False)


def main():
    faulthandler.enable(file=_fault_log)
    os.register_at_fork(after_in_child=_after_fork_in_child)
    signal.signal(signal.SIGINT, _on_stop_signal)
    signal.signal(signal.SIGPROF, _on_stop_signal)
    signal.signal(signal.SIGIO, _on_input_signal)
    _watch_input()
    _thread.start_new_thread(_pump_output_pipes, ())  # a daemon thread: exit does not wait
    _write_all(_original_stderr, STDERR_READY_MARK)
    ready = {"protocol": PROTOCOL_VERSION, "lang": "Python",
             "version": sys.version.split()[0], "pid": os.getpid()}
    _send_line(b"\n" + _dumps({"jsonrpc": "2.0", "method": "ready", "params": ready}))
    try:
        _serve()
    except BaseException as error:  # a reply outside any request, or a bug of this driver
        import traceback
        _fail("".join(traceback.format_exception(error)))


main()
