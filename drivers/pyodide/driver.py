# The bond driver for Pyodide, its Python half: speaks the protocol of docs/protocol.md with the
# host, running inside Pyodide (CPython compiled to WebAssembly) in a worker thread of node. The
# JavaScript half (drivers/pyodide/driver.js) hands this file over and gives it `_bond_io`, the
# only way out of the sandbox: receive a protocol line, send one, and the stop and limit state it
# shares with node's main thread. It is taken away from sys.modules before user code runs. User
# code runs in __main__'s globals and never sees this module. Only the standard library is used.
# Two sections are the Python driver's own (Values, and Requests from the host): the bootstrap
# (src/bond/driver_registry.cpp) puts drivers/python/driver.py's in at the lines that name them,
# and this file gives what they call (_send_line, _watch, _apply_limits, _stop_error, ...).
import atexit
import binascii
import builtins
import io
import json
import keyword
import sys
import time
import traceback
import weakref

import __main__
import _bond_io

try:
    import _json  # json's C encoder and scanner, which the Values section uses as Python's does
except ImportError:
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
# (`atexit._run_exitfuncs = None`) changes the module everybody else sees, not these.
(atexit, binascii, io, json, keyword, time, traceback, weakref) = map(
    _own_copy, (atexit, binascii, io, json, keyword, time, traceback, weakref))
_setrecursionlimit = sys.setrecursionlimit
# The JavaScript half's functions, held here only (the module is gone from sys.modules).
_receive, _poll, _send = _bond_io.receive, _bond_io.poll, _bond_io.send
_begin, _end, _enter_user, _leave_user = (_bond_io.begin, _bond_io.end, _bond_io.enter_user,
                                          _bond_io.leave_user)
_set_limits, _lift, _limit_hit = _bond_io.set_limits, _bond_io.lift, _bond_io.limit_hit
_fail_js = _bond_io.fail


# --- State ----------------------------------------------------------------------------------------
# The driver's own state, module-level and private (user code runs in __main__'s globals).
PROTOCOL_VERSION = 1
DRIVER_FILE = "<bond-driver>"  # the name driver.js compiles this file under

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
_release_queue = []  # numbers of the host's objects whose proxies were collected

_received = set()  # ids of the host's requests received and not yet answered
_stop = None  # (request id, message, limit) of the operation to stop
_stop_raised = False  # raised once: code that swallows it is killed by the host after a grace
_in_user_code = False
_limits = {}  # the running operation's {"cpu", "memory"} and its request id
_queued = []  # lines read while looking for interrupts (see _take_notifications), served next
_nesting = 0
_exiting = False
_base_recursion_limit = sys.getrecursionlimit()
_FRAMES_PER_NESTING = 10  # the driver's own frames per level are fewer


# --- Channels and output --------------------------------------------------------------------------
# Pyodide has no file descriptors of the host: the protocol is _bond_io's receive and send, which
# node's main thread feeds from its stdin and which write to its stdout. sys.stdout and sys.stderr
# are replaced by streams that send `output` messages; what Pyodide itself writes to its fd 1 and
# 2 (os.write) reaches driver.js's handlers, which send it the same way.
def _send_line(line):
    """Writes one protocol line (bytes, with its newline), after the output still pending and a
    `release` of the proxies collected since the last one."""
    _sys_stdout.flush_buffer()
    _sys_stderr.flush_buffer()
    if _release_queue:
        numbers = _release_queue[:]
        del _release_queue[:len(numbers)]
        _send(_dumps({"jsonrpc": "2.0", "method": "release", "params": {"objects": numbers}})
              .decode("utf-8"))
    _send(line.decode("utf-8"))


class _ProtocolStream(io.TextIOBase):
    """sys.stdout / sys.stderr: text goes to the host as output messages, a line at a time."""

    _MESSAGE_CHARACTERS = 65536  # one output message at most; longer text is split

    def __init__(self, channel, fd):
        super().__init__()
        self.channel, self._fd = channel, fd
        self._pending, self._pending_size = [], 0

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
        with _driver_code():
            (_sys_stderr if self is _sys_stdout else _sys_stdout).flush_buffer()
            self._pending.append(text)
            self._pending_size += len(text)
            if "\n" in text or self._pending_size > 8192:
                self.flush_buffer()
        return len(text)

    def flush_buffer(self):
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending, self._pending_size = [], 0
        for start in range(0, len(text), self._MESSAGE_CHARACTERS):
            chunk = text[start:start + self._MESSAGE_CHARACTERS]
            try:
                data = chunk.encode("utf-8").decode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: the bytes they stand for
                data = {"$bytes": _base64(chunk.encode("utf-8", "surrogateescape"))}
            _send(_dumps({"jsonrpc": "2.0", "method": "output",
                          "params": {"channel": self.channel, "data": data}}).decode("utf-8"))

    def flush(self):
        with _driver_code():
            self.flush_buffer()

    def reconfigure(self, **settings):
        """Accepted for compatibility; the stream's encoding and buffering are the driver's."""

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def writable(self):
        return True


_sys_stdout = _ProtocolStream("stdout", 1)
_sys_stderr = _ProtocolStream("stderr", 2)
sys.stdout = sys.__stdout__ = _sys_stdout
sys.stderr = sys.__stderr__ = _sys_stderr


# --- Values (drivers/python/driver.py's, put here by the bootstrap) -------------------------------
#@bond-python-section Values


# --- Stopping and limits --------------------------------------------------------------------------
# node's main thread reads the protocol's input while the code runs here. An `interrupt` of the
# top-level request running user code (see _begin, _enter_user) sets Pyodide's interrupt buffer,
# which raises KeyboardInterrupt in the code at its next bytecode; the line itself is queued for
# this thread too, which takes it at the next safe point (the code starts, an exported function
# returns, the code prints) and raises Interrupted there when the buffer's KeyboardInterrupt has
# not come. _leave_user takes the buffer away from the main thread while the driver's own code
# runs, so a message is never cut in half. The CPU limit is measured as wall time by the main
# thread (a Wasm thread's CPU time cannot be read apart); the memory limit caps how far the
# WebAssembly memory may grow (driver.js), which makes allocations raise MemoryError.
class _driver_code:
    """Marks driver code called from user code: a stop waits until it is done, and is raised as
    the user code goes on."""

    def __enter__(self):
        global _in_user_code
        self._was, _in_user_code = _in_user_code, False
        self._watched = _watch(False)

    def __exit__(self, error_type, *exc_info):
        global _in_user_code
        _in_user_code = self._was
        _watch(self._watched)
        if error_type is None:
            _raise_stop()


_watching = False


def _watch(on):
    """Lets the main thread set the interrupt buffer (on: user code runs) or not (the driver's
    own code runs; a signal already set is cleared, and the stop it stood for is raised at the
    next safe point). Returns the previous state."""
    global _watching
    was = _watching
    if on != was:
        _enter_user() if on else _leave_user()
        _watching = on
    return was


def _request_stop(request_id, message, limit=None):
    global _stop
    if _stop is None and request_id in _received:
        _stop = (request_id, message, limit)
        return True
    return False


def _raise_stop():
    """At a safe point: takes the notifications that arrived, and raises the pending stop in the
    code running now, once, if that is user code."""
    global _stop_raised
    if not _in_user_code:
        return
    _take_notifications()
    if _stop is not None and not _stop_raised:
        _stop_raised = True
        raise Interrupted(_stop[1], _stop[2])


def _take_notifications():
    """Reads the lines the main thread has queued, without waiting: interrupts and releases are
    taken now, anything else is kept for the serving loop."""
    while True:
        line = _poll()
        if line is None:
            break
        line = line.encode("utf-8")
        if not _take_notification(line):
            _queued.append(line)
    hit = _limit_hit()
    if hit == "cpu" and "cpu" in _limits:
        _request_stop(_limits["id"],
                      "the code used more than its CPU time limit of %g s (measured as wall time)"
                      % _limits["cpu"], "cpu")


def _take_notification(line):
    """True when `line` (bytes) is an interrupt or release notification, now taken."""
    if b'"interrupt"' not in line and b'"release"' not in line:
        return False
    try:
        message = _decode(line)
    except ValueError:
        return False
    if not isinstance(message, dict) or "id" in message:
        return False
    if message.get("method") == "interrupt":
        _note_interrupt(message.get("params"))
        return True
    if message.get("method") == "release":
        _release(message.get("params"))
        return True
    return False


def _note_interrupt(params):
    if isinstance(params, dict):
        _request_stop(params.get("id"), params.get("reason") or "the code was interrupted")


def _apply_limits(request_id, limits):
    global _limits
    if not isinstance(limits, dict):
        return
    cpu, memory = limits.get("cpu"), limits.get("memory")
    _limits = {"id": request_id}
    if isinstance(cpu, (int, float)) and cpu > 0:
        _limits["cpu"] = cpu
    else:
        cpu = 0
    if isinstance(memory, int) and memory > 0:
        _limits["memory"] = memory
    else:
        memory = 0
    _set_limits(request_id, cpu, memory)


def _lift_limits():
    global _limits
    _lift()
    _limits = {}


def _stop_error(error):
    """The -32002 error data of an exception that ends a stopped request, or None."""
    if isinstance(error, Interrupted):
        return {"type": type(error).__name__, "limit": error.limit}
    if isinstance(error, KeyboardInterrupt):  # from the interrupt buffer: the stop it stands for
        _take_notifications()
        if _stop is not None:
            return {"type": "Interrupted", "limit": _stop[2]}
        return None
    if isinstance(error, MemoryError) and "memory" in _limits:
        return {"type": "MemoryError", "limit": "memory"}
    return None


def _sliced_sleep(seconds, _sleep=time.sleep, _monotonic=time.monotonic):
    """time.sleep in slices, so that an interrupt ends it (Pyodide's sleep does not look at the
    interrupt buffer)."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    while True:
        left = deadline - _monotonic()
        if left <= 0:
            return
        _sleep(min(left, 0.05))


sys.modules["time"].sleep = _sliced_sleep


# --- Requests from the host (drivers/python/driver.py's, put here by the bootstrap) ---------------
#@bond-python-section Requests from the host


# --- Calls to the host ----------------------------------------------------------------------------
def _request(method, params, proxy=None):
    """Sends a request to the host and serves the host's requests until its reply comes: a call
    of an exported function, or (`proxy` given) an operation on a proxy's object."""
    global _next_request_id, _nesting
    if _exiting:
        if proxy is None:
            raise BondError("%s() cannot be called: the bond is closing" % params.get("name"))
        raise BondError("%r cannot be used: the bond is closing" % (proxy,))
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
            _send_line(line)
            result = _serve(request_id)
    finally:
        _nesting -= 1
        _setrecursionlimit(_base_recursion_limit + _nesting * _FRAMES_PER_NESTING)
    _raise_stop()  # the host's function returned, but the code was stopped meanwhile
    return result


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
    """The next protocol line (bytes), or None at the end of the input."""
    if _queued:
        return _queued.pop(0)
    line = _receive()
    return None if line is None else line.encode("utf-8")


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
            # A top-level request is the one node's main thread may stop (and the CPU limit's); it
            # ends after its reply, which reports a CPU limit that stopped it.
            top = _nesting == 0 and type(message.get("id")) is int
            if top:
                _begin(message["id"])
            try:
                _handle_request(message, line if deferred else None)
            finally:
                if top:
                    _end()
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
class _Exit(BaseException):
    """Ends the serving loop: driver.js then ends the process with the status."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def _exit_like_python(code):
    """Ends the interpreter as an uncaught SystemExit(code) would: the message of a code that is
    not a number goes to stderr, atexit functions run."""
    global _exiting
    _exiting = True  # atexit functions must not call the host that is closing the bond
    if code is not None and not isinstance(code, int):
        sys.stderr.write("%s\n" % (code,))
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        _sys_stdout.flush_buffer()
        _sys_stderr.flush_buffer()
    raise _Exit(code or 0)


def _host_closed():
    """The end of the protocol's input: the host closed the bond, or went away."""
    _exit_like_python(0)


def _fail(reason):
    _fail_js(reason)  # writes to node's stderr and ends the process with status 70


def main(version):
    ready = {"protocol": PROTOCOL_VERSION, "lang": "Pyodide", "version": version,
             "pid": _bond_io.pid()}
    _send_line(b"\n" + _dumps({"jsonrpc": "2.0", "method": "ready", "params": ready}))
    try:
        _serve()
    except _Exit as done:
        return done.status
    except BaseException as error:  # a reply outside any request, or a bug of this driver
        _fail("".join(traceback.format_exception(error)))
