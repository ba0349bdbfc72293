"""The blocking client: a Client (one connection to bondd), the Bonds it opens or attaches to,
and the proxies of remote objects. The connection's threading and framing are connection.py's."""
import socket
import sys

from .connection import Connection
from .daemon import PrivateDaemon
from .errors import BondException
from .values import Ref, RemoteObjectBase


def open_params(lang, command=None, args=None, cwd=None, env=None, def_args=None,
                trans_except=None, timeout=None, start_timeout=None, limits=None, sandbox=None,
                container=None, name=None):
    """The params of bondd's `open` for these options (timeouts in seconds); None is absent."""
    params = {"lang": lang, "command": command, "args": list(args) if args is not None else None,
              "cwd": None if cwd is None else str(cwd),
              "env": None if env is None else {str(k): str(v) for k, v in env.items()},
              "def_args": def_args, "trans_except": trans_except,
              "timeout_ms": None if timeout is None else int(timeout * 1000),
              "start_timeout_ms": None if start_timeout is None else int(start_timeout * 1000),
              "limits": limits, "sandbox": sandbox, "container": container, "name": name}
    return {key: value for key, value in params.items() if value is not None}


def code_params(bond_id, code, limits):
    """The params of eval and eval_block (a Ref's code for `code` too)."""
    params = {"bond": bond_id, "code": code.code if isinstance(code, Ref) else code}
    if limits is not None:
        params["limits"] = limits
    return params


def call_params(bond_id, name, args, limits):
    params = {"bond": bond_id, "name": name, "args": args}
    if limits is not None:
        params["limits"] = limits
    return params


def proxy_params(bond_id, name, other, remote):
    params = {"bond": bond_id, "name": name, "to": other.id}
    if remote is not None:
        params["remote"] = remote
    return params


def export_decorator(export, function, name):
    """For export(function, name), export("name") and export: None, or the decorator to
    return."""
    if isinstance(function, str) and name is None:
        function, name = None, function
    if function is None:
        return lambda decorated: export(decorated, name)
    return None


def write_output(bond, channel, data):
    """The default for output of the remote code: this process's sys.stdout or sys.stderr."""
    stream = sys.stderr if channel == "stderr" else sys.stdout
    if isinstance(data, bytes):
        stream.flush()
        getattr(stream, "buffer", stream).write(data)
    else:
        stream.write(data)


def connect_socket(socket_path=None, address=None, token=None, bondd=None, daemon_args=()):
    """A connected socket to bondd and the private daemon behind it (or None)."""
    if socket_path is not None and address is not None:
        raise ValueError("give a socket path or a TCP address, not both")
    try:
        if socket_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(socket_path))
            except OSError:
                sock.close()
                raise
            return sock, None
        if address is not None:
            if isinstance(address, str):
                host, _, port = address.rpartition(":")
                address = (host.strip("[]"), int(port))
            sock = socket.create_connection(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock, None
    except OSError as error:
        raise BondException(f"cannot connect to bondd at {socket_path or address}: {error}") \
            from None
    daemon = PrivateDaemon(bondd, daemon_args)
    return daemon.socket, daemon


def read_token(token=None, token_file=None):
    if token is None and token_file is not None:
        with open(token_file) as file:
            token = file.read().rstrip()
    return token


class ClientBase:
    """What the blocking and the asyncio clients share: their bonds, exported functions and
    the output handler."""

    def __init__(self, on_output):
        self.on_output = on_output or write_output
        self._bonds = {}    # id -> Bond
        self._exports = {}  # (bond id, name) -> function

    def _exported_function(self, params):
        function = self._exports.get((params.get("bond"), params.get("name")))
        if function is None:
            raise BondException(f"nothing is exported as {params.get('name')}")
        return function

    def _take_output(self, params):
        bond_id = params.get("bond")
        bond = self._bonds.get(bond_id)
        handler = bond.on_output if bond is not None and bond.on_output else self.on_output
        try:
            handler(bond if bond is not None else bond_id, params.get("channel"),
                    params.get("data"))
        except Exception as error:  # the output handler's error must not break the connection
            print(f"bond_client: the output handler failed: {error!r}", file=sys.stderr)

    def _forget(self, bond_id):
        """False if the bond was already let go of; else forgets it and its exports."""
        if self._bonds.pop(bond_id, None) is None:
            return False
        for key in [key for key in self._exports if key[0] == bond_id]:
            del self._exports[key]
        return True


class Client(ClientBase):
    """A connection to bondd: `Client(socket_path)` for a Unix socket, `Client(address=
    "127.0.0.1:7878", token=...)` (or `token_file=`) for TCP, `Client()` for a private daemon
    started for this client alone (bondd from `bondd=`, $BONDD, the source tree's build or PATH)
    and ended with it. `on_output(bond, channel, data)` receives the remote code's output
    (default: sys.stdout and sys.stderr). Usable from several threads at once."""

    bond_class = None  # the class of the bonds it makes (Bond; the `bond` module's its own)

    def __init__(self, socket_path=None, *, address=None, token=None, token_file=None,
                 bondd=None, daemon_args=(), on_output=None):
        super().__init__(on_output)
        sock, self._daemon = connect_socket(socket_path, address, token, bondd, daemon_args)
        self._connection = Connection(sock, self._object_for, self._serve_invoke,
                                      self._take_output)
        token = read_token(token, token_file)
        if token is not None:
            try:
                self._request("auth", {"token": token})
            except BaseException:
                self.close()
                raise

    # What the connection hands over.

    def _object_for(self, number, type):
        return RemoteObject(self, number, type)

    def _release_later(self, number):
        self._connection.release_later(number)

    def _serve_invoke(self, params):
        return self._exported_function(params)(*params.get("args", ()))

    def _request(self, method, params, bond=None):
        return self._connection.request(method, params, bond)

    # The methods.

    def open(self, lang, *, command=None, args=None, cwd=None, env=None, def_args=None,
             trans_except=None, timeout=None, start_timeout=None, limits=None, sandbox=None,
             container=None, name=None, on_output=None):
        """Starts an interpreter of `lang` and returns its Bond. The options are those of
        bondd's `open` (docs/daemon.md); `timeout` and `start_timeout` are in seconds."""
        params = open_params(lang, command, args, cwd, env, def_args, trans_except, timeout,
                             start_timeout, limits, sandbox, container, name)
        opened = self._request("open", params)
        return self._adopt(opened, name, on_output)

    def attach(self, name, *, on_output=None):
        """The bond that another client opened with `name`, now held by this client too."""
        return self._adopt(self._request("attach", {"name": name}), name, on_output)

    def _adopt(self, opened, name, on_output):
        bond = (self.bond_class or Bond)(self, opened["bond"], opened["lang"], name, on_output)
        self._bonds[bond.id] = bond
        return bond

    def drivers(self):
        """The languages bondd can open."""
        return self._request("drivers", {})

    def list(self):
        """This client's bonds and the named ones it may attach to (docs/daemon.md, list)."""
        return self._request("list", {})

    def serve(self):
        """Serves calls of the remote code into this client's exported functions until the
        client is closed (from another thread) or the daemon goes: for a client whose functions
        other clients' calls use while it asks nothing itself (otherwise, a waiting call serves
        them)."""
        self._connection.serve()

    def close(self):
        """Closes the connection: the daemon closes the bonds only this client held; a private
        daemon exits."""
        self._connection.close()
        if self._daemon is not None:
            self._daemon.wait(60)
            self._daemon = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BondBase:
    """What a bond is, blocking or not: its client, id (bondd's), language, name if it is a
    named one, and its own output handler if it has one."""

    def __init__(self, client, id, lang, name=None, on_output=None):
        self.client = client
        self.id = id
        self.lang = lang
        self.name = name
        self.on_output = on_output

    def ref(self, code):
        """Code evaluated by the bond where it is passed as an argument of call()."""
        return Ref(code)

    def __repr__(self):
        return f"<{type(self).__name__} {self.id} {self.lang}>"


class Bond(BondBase):
    """An interpreter held by bondd for this client."""

    def _request(self, method, params):
        return self.client._connection.request(method, params, self.id)

    def eval(self, code, *, limits=None):
        """The value of the expression `code` (a Ref's code too)."""
        return self._request("eval", code_params(self.id, code, limits))

    def eval_block(self, code, *, limits=None):
        """Runs the statements `code`; what they define stays."""
        self._request("eval_block", code_params(self.id, code, limits))

    def call(self, name, *args, limits=None):
        """Calls `name` (any callable expression of the language) with `args`."""
        return self._request("call", call_params(self.id, name, args, limits))

    def callable(self, name):
        """A Python function that calls `name`."""
        def remote_function(*args):
            return self.call(name, *args)
        remote_function.__name__ = remote_function.__qualname__ = str(name)
        return remote_function

    def export(self, function=None, name=None):
        """Lets the remote code call `function` as `name` (default: its __name__). Also a
        decorator: `@bond.export` or `@bond.export("name")`."""
        decorator = export_decorator(self.export, function, name)
        if decorator is not None:
            return decorator
        name = name or function.__name__
        self.client._exports[(self.id, name)] = function
        self._request("export", {"bond": self.id, "name": name})
        return function

    def proxy(self, name, other, remote=None):
        """Makes `name` of this bond callable in bond `other` (of the same client) as `remote`
        (default `name`); the calls go from bond to bond inside the daemon."""
        self._request("proxy", proxy_params(self.id, name, other, remote))

    def exports(self):
        """The names this bond's code can call that reach outside it."""
        return self._request("exports", {"bond": self.id})

    def interrupt(self):
        """Stops the operation running on the bond (from another thread); it raises
        Interrupted and the bond goes on."""
        self.client._connection.request("interrupt", {"bond": self.id})

    def close(self):
        """Closes the bond (or lets go of it, when other clients hold it too)."""
        if self.client._forget(self.id) and not self.client._connection.ended:
            self.client._connection.request("close", {"bond": self.id})

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RemoteObject(RemoteObjectBase):
    """A value that stays in its interpreter (a PHP object, a Python closure, ...), seen as a
    Python object: `obj.name` reads an attribute, `obj.name = v` sets one, `obj.method(...)`
    calls a method (reading it first: two round trips; `call_method` takes one), `obj(...)`
    calls the object itself. Passed to its own bond, the code receives the original. The
    interpreter lets go of it once this proxy is collected, or at `release()`."""
    __slots__ = ()

    def _request(self, method, params):
        return self._client._connection.request(method, self._params(params), self._bond_id)

    def call_method(self, method, *args):
        """The result of `obj.method(*args)` in the object's language, in one round trip."""
        return self._request("object_call", {"method": method, "args": args})

    def get_attribute(self, name):
        return self._request("object_get", {"name": name})

    def set_attribute(self, name, value):
        self._request("object_set", {"name": name, "value": value})

    def value(self):
        """The object's JSON copy, where its language can make one (a Promise is awaited)."""
        return self._request("object_get", {})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self.get_attribute(name)

    def __setattr__(self, name, value):
        self.set_attribute(name, value)

    def __call__(self, *args):
        return self._request("object_call", {"args": args})

    def __iter__(self):
        return iter(self.value())
