"""How Python values cross to bondd and back (docs/daemon.md, Values): JSON, with bytes as
{"$bytes": base64}, code of the bond's language as {"$code": ...} (a `Ref`, as an argument of
call) and objects kept by an interpreter as {"$object": n}."""
import base64
import json

from .errors import SerializationException


class Ref:
    """Code of a bond's language, evaluated by the bond where it is passed as an argument of
    call() (the earlier host's quoted expressions): `php.call("fclose", php.ref("$handle"))`."""
    __slots__ = ("code",)

    def __init__(self, code):
        self.code = code

    def __repr__(self):
        return f"Ref({self.code!r})"


def _tagged(value):
    """json.dumps' hook for what JSON has no type for."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Ref):
        return {"$code": value.code}
    handle = getattr(value, "_bond_handle", None)  # a remote object's proxy
    if handle is not None:
        return handle()
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"a {type(value).__name__} cannot be sent to a bond (JSON, bytes and remote "
                    "objects can)")


_encoder = json.JSONEncoder(default=_tagged, ensure_ascii=False, separators=(",", ":"))


def encode(message):
    """One line of JSON (bytes, with its newline) for `message`."""
    return (_encoder.encode(message) + "\n").encode("utf-8")


def make_decoder(object_for):
    """A function from one line of JSON to its value, in which {"$bytes"} becomes bytes and
    {"$object": n, "type": T} becomes object_for(n, T)."""
    def untag(mapping):
        if len(mapping) <= 2:
            if "$object" in mapping:
                return object_for(mapping["$object"], mapping.get("type", ""))
            if "$bytes" in mapping and len(mapping) == 1:
                return base64.b64decode(mapping["$bytes"])
        return mapping
    decode = json.JSONDecoder(object_hook=untag).decode
    return lambda line: decode(line.decode("utf-8"))


def decode_message(decode, line):
    """The JSON-RPC message of `line`, or ProtocolError (after which the connection is over)."""
    from .errors import ProtocolError
    try:
        message = decode(line)
        if isinstance(message, dict):
            return message
        error = "not a JSON object"
    except ValueError as decoding:
        error = decoding
    shown = line[:200].decode("utf-8", "replace")
    raise ProtocolError(f"bondd sent a line that is not JSON-RPC ({error}): {shown!r}; the "
                        "connection is closed")


def error_answer(error):
    """The answer to an `invoke` whose function raised `error`: the remote code raises it."""
    text = str(error)
    return {"error": {"code": -32000,
                      "message": f"{type(error).__name__}: {text}" if text
                      else type(error).__name__}}


def send_answer(send, invoke, answer):
    """Sends `answer` to `invoke` with `send`; a result JSON cannot carry becomes an error the
    remote code raises, so that its wait still ends."""
    try:
        send({"jsonrpc": "2.0", "id": invoke.get("id"), **answer})
    except SerializationException as error:
        send({"jsonrpc": "2.0", "id": invoke.get("id"), "error": {
            "code": -32001, "message": f"the result cannot be sent back: {error}"}})


class RemoteObjectBase:
    """What the proxies of remote objects share, blocking or not: the number the daemon handed
    out, the bond it came from, letting go of it."""
    __slots__ = ("_client", "_number", "_bond_id", "remote_type", "__weakref__")

    def __init__(self, client, number, type):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_number", number)
        object.__setattr__(self, "_bond_id", None)
        object.__setattr__(self, "remote_type", type)

    def _bond_handle(self):
        if self._number is None:
            from .errors import BondException
            raise BondException("the remote object was released")
        return {"$object": self._number}

    def _params(self, params):
        params["object"] = self._bond_handle()["$object"]
        return params

    def release(self):
        """Lets go of the object now rather than when this proxy is collected."""
        number = self._number
        if number is not None:
            object.__setattr__(self, "_number", None)
            self._client._release_later(number)

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass

    def __repr__(self):
        return f"<bond proxy of {self.remote_type} #{self._number}>"
