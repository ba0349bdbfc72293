"""The exceptions of the client, mirroring the C++ library's (include/bond/errors.hpp), and the
one table that turns a JSON-RPC error of bondd into one of them (docs/daemon.md, Errors)."""


class BondException(RuntimeError):
    """Anything that went wrong with a bond; `lang` is the bond's language ("" if none)."""

    def __init__(self, message, lang=""):
        super().__init__(message)
        self.message = message
        self.lang = lang


class TerminatedException(BondException):
    """The interpreter exited, or the daemon or the connection to it went away. `exit_status`
    is the status the interpreter exited with by itself (the code called exit(3): 3), None when
    it was killed, or the daemon or the connection went away."""

    def __init__(self, message, lang="", exit_status=None):
        super().__init__(message, lang)
        self.exit_status = exit_status


class SerializationException(BondException):
    """A value could not be converted; `side` is "local" (before it was sent) or "remote"."""

    def __init__(self, message, lang="", side="local"):
        super().__init__(message, lang)
        self.side = side


class RemoteException(BondException):
    """The remote code raised; `data` is its message, or with trans_except the serialized
    exception (for Python a map of its `type`, `module`, `message` and `args`)."""

    def __init__(self, message, lang="", data=None):
        super().__init__(message, lang)
        self.data = message if data is None else data


class Interrupted(RemoteException):
    """interrupt() (or a KeyboardInterrupt while waiting) stopped the operation."""


class LimitExceeded(RemoteException):
    """The operation went beyond one of its limits: `limit` is "wall", "cpu", "memory" or
    "output"."""

    def __init__(self, message, lang="", data=None, limit=""):
        super().__init__(message, lang, data)
        self.limit = limit


class TimeoutException(BondException):
    """No reply of the interpreter within the bond's timeout; the bond has been closed."""


class ProtocolError(BondException):
    """The daemon sent something that is not JSON-RPC; the connection was closed."""


def exception_from_error(error):
    """The exception that stands for `error`, a JSON-RPC error object of bondd."""
    message = error.get("message", "")
    data = error.get("data")
    if not isinstance(data, dict):
        data = {}
    lang = data.get("lang", "")
    kind = data.get("type")
    if kind == "RemoteException" or (kind is None and error.get("code") == -32000):
        return RemoteException(message, lang, data.get("data"))
    if kind == "SerializationException":
        return SerializationException(message, lang, data.get("side", "local"))
    if kind == "LimitExceeded":
        return LimitExceeded(message, lang, data.get("data"), data.get("limit", ""))
    if kind == "Interrupted":
        return Interrupted(message, lang, data.get("data"))
    if kind == "TerminatedException":
        status = data.get("exit_status")
        return TerminatedException(message, lang, status if type(status) is int else None)
    if kind == "TimeoutException":
        return TimeoutException(message, lang)
    code = error.get("code")
    return BondException(message if code in (None, -32005) else f"{message} ({code})", lang)
