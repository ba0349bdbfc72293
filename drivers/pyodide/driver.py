# The bond driver for Pyodide, its Python half: speaks the protocol of docs/protocol.md with the
# host, running inside Pyodide (CPython compiled to WebAssembly) in a worker thread of node. The
# JavaScript half (drivers/pyodide/driver.js) hands this file over and gives it `_bond_io`, the
# only way out of the sandbox: receive a protocol line, send one, and the stop and limit state it
# shares with node's main thread. It is taken away from sys.modules before user code runs. User
# code runs in __main__'s globals and never sees this module. Only the standard library is used.
import binascii
import builtins
import io
import json
import keyword
import sys
import time
import weakref

import __main__
import _bond_io

# The driver's own builtins: the functions defined below look them up here, so user code that
# reassigns or deletes one of builtins (`builtins.len = None`) changes only its own.
__builtins__ = dict(builtins.__dict__)
_LANGUAGE_GLOBALS = frozenset(__builtins__)  # names an export may not take


def _own_copy(module):
    """The module's namespace as it is now, in a module object of the driver's own."""
    copy = type(module)(module.__name__)
    copy.__dict__.update(module.__dict__)
    return copy


(binascii, io, json, keyword, time, weakref) = map(
    _own_copy, (binascii, io, json, keyword, time, weakref))
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
def _write_message(line):
    """Writes one protocol line (str, with its newline), after a `release` of the proxies
    collected since the last one, and after the output still pending."""
    _sys_stdout.flush_buffer()
    _sys_stderr.flush_buffer()
    if _release_queue:
        numbers = _release_queue[:]
        del _release_queue[:len(numbers)]
        _send(_dumps({"jsonrpc": "2.0", "method": "release", "params": {"objects": numbers}}))
    _send(line)


def _send_line(line):
    _write_message(line)


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
                          "params": {"channel": self.channel, "data": data}}))

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
    """JSONEncoder(...).encode through the json module's C encoder alone: JSONEncoder's Python
    code looks up builtins (isinstance) that user code may have replaced."""
    make = json.encoder.c_make_encoder
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                                default=default).encode
    strings = json.encoder.encode_basestring

    def encode(value):
        # ({}: the markers that find a circular value, fresh for each message)
        return "".join(make({}, default, strings, None, ":", ",", False, False, False)(value, 0))

    return encode


def _json_decoder(object_hook=None):
    """JSONDecoder(...).decode through the json module's C scanner alone (see _json_encoder)."""
    decoder = json.JSONDecoder(object_hook=object_hook)
    make = json.scanner.c_make_scanner
    if make is None:
        return decoder.decode
    scan = make(decoder)

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
    """A protocol line (str) as Python values; ValueError when it is not JSON. The object hook
    that turns tags into values costs a call per object: only where one can be (a tag's key
    starts with "$")."""
    decode = _decode_tagged_json if '"$' in line else _decode_plain_json
    return decode(line)


def _holds_code(line):
    return '"$' in line and '"$code"' in line


def _dumps(message):
    """One protocol line (str); raises TypeError/ValueError for what JSON cannot carry (a lone
    surrogate included). Objects it meets are put in the table: use _dumps_values, which takes
    them out again when it fails."""
    line = _encode_json(message)
    line.encode("utf-8")  # a lone surrogate is no UTF-8: UnicodeEncodeError, a ValueError
    return line + "\n"


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


_encode_string = json.encoder.encode_basestring  # a str as JSON, as the encoder writes it


def _result_line(request_id, result):
    """The reply to request `request_id`: the usual small results (an integer, a string, null)
    written as the encoder would write them, without building and walking a message for it."""
    kind = type(result)
    if type(request_id) is int:
        if kind is int:
            return '{"jsonrpc":"2.0","id":%d,"result":%d}\n' % (request_id, result)
        if result is None:
            return '{"jsonrpc":"2.0","id":%d,"result":null}\n' % request_id
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
        if self._was:
            _leave_user()

    def __exit__(self, error_type, *exc_info):
        global _in_user_code
        _in_user_code = self._was
        if self._was:
            _enter_user()
        if error_type is None:
            _raise_stop()


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
        if not _take_notification(line):
            _queued.append(line)
    hit = _limit_hit()
    if hit == "cpu" and "cpu" in _limits:
        _request_stop(_limits["id"],
                      "the code used more than its CPU time limit of %g s (measured as wall time)"
                      % _limits["cpu"], "cpu")


def _take_notification(line):
    """True when `line` is an interrupt or release notification, now taken."""
    if '"interrupt"' not in line and '"release"' not in line:
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


def _stop_error(error, request_id):
    """The -32002 error data of an exception that ends a stopped request, or None."""
    if isinstance(error, Interrupted):
        return {"type": type(error).__name__, "limit": error.limit}
    if isinstance(error, KeyboardInterrupt):  # from the interrupt buffer: the stop it stands for
        _take_notifications()
        if _stop is not None and _stop[0] == request_id:
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
    top = _nesting == 0
    try:
        _answer_request(request_id, message, line)
    finally:
        _received.discard(request_id)
        _end_stop(request_id)
        if top:
            _end()  # (after the reply: a CPU limit that stopped the code is reported in it)


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
        if _nesting == 0:
            _begin(request_id if type(request_id) is int else 0)
        if limits is not None:
            _apply_limits(request_id, limits)
        _in_user_code = True
        _enter_user()
        try:
            _raise_stop()  # stopped before it started
            if line is not None:  # its {"$code"} values are evaluated as user code, now
                params = _decode_tagged_json(line).get("params")
                if not isinstance(params, dict):
                    params = {}
            result = handler(params)
            if method in _KEEPING and params.get("keep"):
                result = _as_object(result)
        finally:
            _in_user_code = False
            _leave_user()
    except (_InvalidParams, _UnknownObject) as error:
        if limits is not None:
            _lift_limits()
        return _reply_error(request_id, -32602, str(error))
    except SystemExit as error:  # exit() in user code ends the interpreter, as it would anywhere
        _exit_like_python(error.code)
    except BaseException as error:
        stop = _stop_error(error, request_id)
        if limits is not None:
            _lift_limits()
        if stop is not None:
            text = _describe(error) if _stop is None else "Interrupted: %s" % _stop[1]
            if stop["limit"] == "memory":
                text = "MemoryError: the code used more than its memory limit"
            return _reply_error(request_id, -32002, text, stop)
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
    """The next protocol line (str), or None at the end of the input."""
    if _queued:
        return _queued.pop(0)
    return _receive()


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
                message = _decode_plain_json(line) if deferred else _decode(line)
            except _UnknownObject as error:  # {"$yours": N} of no entry: answered below
                unknown = error
                message = _decode_plain_json(line)
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
        import atexit
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
    _send_line("\n" + _dumps({"jsonrpc": "2.0", "method": "ready", "params": ready}))
    try:
        _serve()
    except _Exit as done:
        return done.status
    except BaseException as error:  # a reply outside any request, or a bug of this driver
        import traceback
        _fail("".join(traceback.format_exception(error)))
