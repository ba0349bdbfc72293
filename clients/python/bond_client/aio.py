"""The asyncio client: `await client.open(...)`, `await bond.call(...)`, with the blocking
client's options, exceptions and values. One task reads the connection and settles each
request's future; an `invoke` runs the exported function (a plain or an async function) in a
task of its own, so the event loop goes on meanwhile."""
import asyncio
import inspect
import itertools

from .client import (BondBase, ClientBase, call_params, code_params, connect_socket,
                     open_params, proxy_params, read_token)
from .errors import (BondException, SerializationException, TerminatedException,
                     exception_from_error)
from .values import (RemoteObjectBase, decode_message, encode, error_answer, send_answer,
                     make_decoder)

_LONGEST_LINE = 1 << 30  # bondd's messages may be as long as its --max-message-size


class AsyncClient(ClientBase):
    """Made by `await AsyncClient.connect(...)` with Client's arguments; `async with` closes it."""

    def __init__(self, on_output):
        super().__init__(on_output)
        self._ids = itertools.count(1)
        self._pending = {}    # request id -> (future, bond id or None)
        self._released = []   # numbers of remote objects let go of, not yet told
        self._ended = None
        self._serving = set()  # the tasks serving invokes
        self._decode = make_decoder(self._object_for)
        self._decoded_objects = []

    @classmethod
    async def connect(cls, socket_path=None, *, address=None, token=None, token_file=None,
                      bondd=None, daemon_args=(), on_output=None):
        client = cls(on_output)
        sock, client._daemon = connect_socket(socket_path, address, token, bondd, daemon_args)
        sock.setblocking(False)
        client._reader, client._writer = await asyncio.open_connection(sock=sock,
                                                                       limit=_LONGEST_LINE)
        client._reading = asyncio.ensure_future(client._read())
        token = read_token(token, token_file)
        if token is not None:
            await client._request("auth", {"token": token})
        return client

    # The connection.

    def _release_later(self, number):
        self._released.append(number)

    def _object_for(self, number, type):
        remote_object = AsyncRemoteObject(self, number, type)
        self._decoded_objects.append(remote_object)
        return remote_object

    def _send(self, message):
        if self._ended is not None:
            raise self._ended
        if self._released:
            numbers, self._released = self._released, []
            self._writer.write(encode({"jsonrpc": "2.0", "method": "release",
                                       "params": {"objects": numbers}}))
        try:
            self._writer.write(encode(message))
        except (TypeError, ValueError) as error:
            raise SerializationException(str(error), side="local") from None

    async def _request(self, method, params, bond=None):
        id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._send({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        self._pending[id] = (future, bond)
        try:
            await self._writer.drain()
            return await future
        except asyncio.CancelledError:
            # The caller gave up: the remote operation stops too.
            self._pending.pop(id, None)
            if bond is not None and self._ended is None:
                self._send({"jsonrpc": "2.0", "method": "interrupt", "params": {"bond": bond}})
            raise

    async def _read(self):
        try:
            while True:
                line = await self._reader.readline()
                if not line.endswith(b"\n"):
                    raise TerminatedException("bondd closed the connection")
                if not line.strip():
                    continue
                self._decoded_objects = []
                self._take(decode_message(self._decode, line))
        except BondException as error:
            self._end(error)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self._end(TerminatedException(f"the connection to bondd is gone ({error})"))

    def _take(self, message):
        method = message.get("method")
        if method is None:
            future, bond = self._pending.pop(message.get("id"), (None, None))
            for remote_object in self._decoded_objects:
                object.__setattr__(remote_object, "_bond_id", bond)
            if future is None or future.done():
                return  # given up (cancelled)
            if "error" in message:
                future.set_exception(exception_from_error(message["error"] or {}))
            else:
                future.set_result(message.get("result"))
        elif method == "output":
            self._take_output(message.get("params") or {})
        elif method == "invoke":
            task = asyncio.ensure_future(self._serve(message))
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, invoke):
        params = invoke.get("params") or {}
        try:
            result = self._exported_function(params)(*params.get("args", ()))
            if inspect.isawaitable(result):
                result = await result
            answer = {"result": result}
        except Exception as error:
            answer = error_answer(error)
        if self._ended is not None:
            return
        send_answer(self._send, invoke, answer)

    def _end(self, exception):
        if self._ended is None:
            self._ended = exception
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(exception)
        self._pending.clear()
        self._writer.close()

    # The methods.

    async def open(self, lang, *, command=None, args=None, cwd=None, env=None, def_args=None,
                   trans_except=None, timeout=None, start_timeout=None, limits=None,
                   sandbox=None, container=None, name=None, on_output=None):
        params = open_params(lang, command, args, cwd, env, def_args, trans_except, timeout,
                             start_timeout, limits, sandbox, container, name)
        return self._adopt(await self._request("open", params), name, on_output)

    async def attach(self, name, *, on_output=None):
        return self._adopt(await self._request("attach", {"name": name}), name, on_output)

    def _adopt(self, opened, name, on_output):
        bond = AsyncBond(self, opened["bond"], opened["lang"], name, on_output)
        self._bonds[bond.id] = bond
        return bond

    async def drivers(self):
        return await self._request("drivers", {})

    async def list(self):
        return await self._request("list", {})

    async def close(self):
        if self._ended is None:
            self._end(TerminatedException("the client was closed"))
        await self._reading
        try:
            await self._writer.wait_closed()  # the socket is closed once this returns
        except (OSError, BondException):
            pass
        if self._daemon is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._daemon.wait, 60)
            self._daemon = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


class AsyncBond(BondBase):
    """Bond's methods, as coroutines."""

    def _request(self, method, params):
        return self.client._request(method, params, self.id)

    async def eval(self, code, *, limits=None):
        return await self._request("eval", code_params(self.id, code, limits))

    async def eval_block(self, code, *, limits=None):
        await self._request("eval_block", code_params(self.id, code, limits))

    async def call(self, name, *args, limits=None):
        return await self._request("call", call_params(self.id, name, args, limits))

    def callable(self, name):
        async def remote_function(*args):
            return await self.call(name, *args)
        remote_function.__name__ = remote_function.__qualname__ = str(name)
        return remote_function

    async def export(self, function, name=None):
        """Lets the remote code call `function` (plain or async) as `name` (default: its
        __name__)."""
        name = name or function.__name__
        self.client._exports[(self.id, name)] = function
        await self._request("export", {"bond": self.id, "name": name})
        return function

    async def proxy(self, name, other, remote=None):
        await self._request("proxy", proxy_params(self.id, name, other, remote))

    async def exports(self):
        return await self._request("exports", {"bond": self.id})

    async def interrupt(self):
        await self.client._request("interrupt", {"bond": self.id})

    async def close(self):
        if self.client._forget(self.id) and self.client._ended is None:
            await self.client._request("close", {"bond": self.id})

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()



class RemoteAttribute:
    """`obj.name` of an AsyncRemoteObject: awaited, the attribute's value; called, the method's
    result (one round trip)."""
    __slots__ = ("_object", "_name")

    def __init__(self, remote_object, name):
        self._object = remote_object
        self._name = name

    def __await__(self):
        return self._object.get_attribute(self._name).__await__()

    def __call__(self, *args):
        return self._object.call_method(self._name, *args)


class AsyncRemoteObject(RemoteObjectBase):
    """RemoteObject for asyncio: `await obj.total`, `await obj.add(3)` (one round trip),
    `await obj(...)`, `await obj.set_attribute("total", 5)`."""
    __slots__ = ()

    def _request(self, method, params):
        return self._client._request(method, self._params(params), self._bond_id)

    async def call_method(self, method, *args):
        return await self._request("object_call", {"method": method, "args": args})

    async def get_attribute(self, name):
        return await self._request("object_get", {"name": name})

    async def set_attribute(self, name, value):
        await self._request("object_set", {"name": name, "value": value})

    async def value(self):
        return await self._request("object_get", {})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return RemoteAttribute(self, name)

    def __setattr__(self, name, value):
        raise AttributeError(f"use `await obj.set_attribute({name!r}, value)`: setting an "
                             "attribute of a remote object is a request")

    def __call__(self, *args):
        return self._request("object_call", {"args": args})
