"""One JSON-RPC connection to bondd, used by any number of threads: framing (one JSON message a
line), requests matched to their answers by id, and the daemon's own messages (`output`,
`invoke`) handed to the client. What a request *means* is client.py's.

Threads: there is no reading thread. A thread that waits for its answer reads the connection
itself while no other thread does (it holds the *reader* role); an answer for another thread is
left for it, and an `invoke` goes to the thread waiting for a request on that bond (where the
daemon runs the nested requests of the exported function), else is served by the reader. So a
lone thread's call costs one send and one receive, with no hand-over between threads."""
import itertools
import socket
import threading

from .errors import (BondException, ProtocolError, SerializationException, TerminatedException,
                     exception_from_error)
from .values import decode_message, encode, error_answer, make_decoder, send_answer


_NO_REQUEST = object()  # the id serve() waits for: no answer has it


class Connection:
    """`sock` a connected stream socket; `object_for(number, type)` makes the proxy of a remote
    object; `serve_invoke(params)` runs an exported function and returns its result;
    `take_output(params)` shows an `output` notification."""

    def __init__(self, sock, object_for, serve_invoke, take_output):
        self._socket = sock
        self._decode = make_decoder(self._object_for)
        self._make_object = object_for
        self._decoded_objects = []  # the remote objects of the message being read
        self._serve_invoke = serve_invoke
        self._take_output = take_output
        self._ids = itertools.count(1)
        self._sending = threading.Lock()
        self._state = threading.Lock()
        self._changed = threading.Condition(self._state)
        self._sleepers = 0          # threads waiting on _changed
        self._reader = None         # the thread that reads the connection now, if any
        self._pending = {}          # request id -> (waiting thread, bond id or None)
        self._answers = {}          # request id -> answer message, for a thread not reading
        self._invokes = {}          # thread -> invoke messages it is to serve
        self._ended = None          # once the connection is over: the exception waits raise
        self._received = b""        # what was received after the last complete line
        self._position = 0          # where the next line starts in _received
        self._partial = []          # the start of a line whose end has not come yet
        self._released = []         # numbers of remote objects let go of, not yet told
        self.on_traffic = None      # a function(direction, line) that sees every line, or None

    # Sending.

    def send(self, message):
        try:
            line = encode(message)
        except (TypeError, ValueError) as error:
            raise SerializationException(str(error), side="local") from None
        self._send_line(line)

    def _send_line(self, line):
        if self.on_traffic:
            self.on_traffic("->", line)
        try:
            with self._sending:
                self._socket.sendall(line)
        except OSError as error:
            self._end(TerminatedException(f"the connection to bondd is gone ({error})"))
            raise self._ended from None

    def release_later(self, number):
        """Lets go of remote object `number` with the next message sent (safe from __del__)."""
        self._released.append(number)

    def _flush_released(self):
        numbers, self._released = self._released, []
        if numbers and self._ended is None:
            self._send_line(encode({"jsonrpc": "2.0", "method": "release",
                                    "params": {"objects": numbers}}))

    def notify(self, method, params):
        if self._released:
            self._flush_released()
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, bond=None):
        """Sends a request and returns its answer message's `result`, or raises its error as
        the client's exception (`make_error`). `bond` is what a KeyboardInterrupt interrupts."""
        if self._released:
            self._flush_released()
        id = next(self._ids)
        try:
            line = encode({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        except (TypeError, ValueError) as error:
            raise SerializationException(str(error), side="local") from None
        me = threading.get_ident()
        with self._state:
            if self._ended is not None:
                raise self._ended
            self._pending[id] = (me, bond)
        self._send_line(line)
        try:
            return self._wait(id, me)
        except KeyboardInterrupt:
            self._interrupt_and_wait(id, me, bond)
            raise

    def _interrupt_and_wait(self, id, me, bond):
        """After a KeyboardInterrupt: stop the remote operation and take its answer, so that the
        connection goes on in step. A second KeyboardInterrupt gives up the answer."""
        try:
            if bond is not None and self._ended is None:
                self.notify("interrupt", {"bond": bond})
            self._wait(id, me)
        except BondException:
            pass
        except KeyboardInterrupt:
            with self._state:
                self._pending.pop(id, None)
            raise

    def serve(self):
        """Serves the daemon's invokes (and shows output) on this thread, waiting for an answer
        that never comes, until the connection ends."""
        try:
            self._wait(_NO_REQUEST, threading.get_ident())
        except TerminatedException:
            pass

    # Waiting: for this thread's answer, serving what the daemon asks meanwhile.

    def _wait(self, id, me):
        while True:
            invoke = None
            with self._state:
                while True:
                    answer = self._answers.pop(id, None)
                    if answer is not None:
                        self._drop_stale_invokes(me)
                        return self._result_of(answer)
                    served = self._invokes.get(me)
                    if served:
                        invoke = served.pop(0)
                        break
                    if self._ended is not None:
                        self._pending.pop(id, None)
                        raise self._ended
                    if self._reader is None:
                        self._reader = me
                        break
                    self._sleepers += 1
                    try:
                        self._changed.wait()
                    finally:
                        self._sleepers -= 1
            if invoke is None:
                answer, invoke = self._read_until(id, me)
                if answer is not None:
                    with self._state:
                        self._drop_stale_invokes(me)
                    return self._result_of(answer)
            self._serve(invoke)

    def _drop_stale_invokes(self, me):
        """Invokes handed to this thread for a call that has ended without them (an interrupt or
        a limit ended the bond's wait) are not run late: the daemon ignores their answers."""
        if me in self._invokes and not any(thread == me for thread, _ in self._pending.values()):
            del self._invokes[me]

    def _read_until(self, id, me):
        """As the reader: reads until this thread's answer (returned as (answer, None)) or an
        invoke for it to serve ((None, invoke)); either way it is the reader no more."""
        try:
            while True:
                message = self._read_message()
                if "method" not in message:
                    answered = message.get("id")
                    with self._state:
                        waiting = self._pending.pop(answered, None)
                        if self._decoded_objects and waiting is not None:
                            for remote_object in self._decoded_objects:
                                object.__setattr__(remote_object, "_bond_id", waiting[1])
                        if answered == id:
                            self._stop_reading()
                            return message, None
                        if waiting is not None:
                            self._answers[answered] = message
                            self._changed.notify_all()
                    # An answer nobody waits for (given up after a KeyboardInterrupt) is dropped.
                    continue
                method = message["method"]
                if method == "output":
                    self._take_output(message.get("params") or {})
                elif method == "invoke":
                    with self._state:
                        serving = self._server_of(message, me)
                        if serving == me:
                            self._stop_reading()
                            return None, message
                        self._invokes.setdefault(serving, []).append(message)
                        self._changed.notify_all()
                # Any other method of the daemon's is not one of the protocol's: ignored.
        except BaseException:
            with self._state:
                if self._reader == me:
                    self._stop_reading()
            raise

    def _stop_reading(self):
        self._reader = None
        if self._sleepers:
            self._changed.notify_all()

    def _server_of(self, invoke, me):
        """The thread to serve `invoke`: the innermost one waiting for a request on its bond
        (the daemon runs the function's own requests inside that request), else the reader."""
        bond = (invoke.get("params") or {}).get("bond")
        best = None
        for request_id, (thread, request_bond) in self._pending.items():
            if request_bond == bond and (best is None or request_id > best[0]):
                best = (request_id, thread)
        return me if best is None else best[1]

    def _serve(self, invoke):
        try:
            answer = {"result": self._serve_invoke(invoke.get("params") or {})}
        except KeyboardInterrupt:
            self._answer(invoke, {"error": {"code": -32000, "message": "KeyboardInterrupt"}})
            raise
        except Exception as error:
            answer = error_answer(error)
        self._answer(invoke, answer)

    def _answer(self, invoke, answer):
        send_answer(self.send, invoke, answer)

    def _result_of(self, answer):
        if "error" in answer:
            raise exception_from_error(answer["error"] or {})
        return answer.get("result")

    # Reading and framing.

    def _object_for(self, number, type):
        remote_object = self._make_object(number, type)
        self._decoded_objects.append(remote_object)
        return remote_object

    def _read_message(self):
        line = self._read_line()
        if self._decoded_objects:
            self._decoded_objects = []
        if self.on_traffic:
            self.on_traffic("<-", line + b"\n")
        try:
            return decode_message(self._decode, line)
        except ProtocolError as error:
            self._end(error)
            raise self._ended from None

    def _read_line(self):
        while True:
            end = self._received.find(b"\n", self._position)
            if end >= 0:
                line = self._received[self._position:end]
                self._position = end + 1
                if self._partial:
                    self._partial.append(line)
                    line = b"".join(self._partial)
                    self._partial = []
                if line.strip():
                    return line
                continue
            if self._position < len(self._received):
                self._partial.append(self._received[self._position:])
            self._received, self._position = b"", 0
            try:
                chunk = self._socket.recv(65536)
            except OSError as error:
                chunk = None
                reason = str(error)
            if not chunk:
                self._end(TerminatedException(
                    "bondd closed the connection" if chunk == b"" else
                    f"the connection to bondd is gone ({reason})"))
                raise self._ended
            self._received = chunk

    # The end.

    def _end(self, exception):
        """The connection is over: every wait, now and later, raises `exception`."""
        with self._state:
            if self._ended is None:
                self._ended = exception
            self._changed.notify_all()
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @property
    def ended(self):
        return self._ended is not None

    def close(self):
        if self._ended is None:
            try:
                self._flush_released()
            except BondException:
                pass
        self._end(TerminatedException("the client was closed"))
        self._socket.close()
