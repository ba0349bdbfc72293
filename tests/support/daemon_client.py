"""A JSON-RPC client of bond's daemon and a wrapper that starts the daemon (bondd, or
`bond serve`), shared by tests/daemon, tests/cli and bench/clients (standard library only).

Waiting is on events (the daemon's ready line, a reply, a log line) with generous deadlines that
only guard against hangs; nothing sleeps to synchronise.
"""
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading

HANG_GUARD = 120  # seconds: only a hang takes this long
# A sanitizer's report in the daemon's log (scripts/test --sanitize): it fails the test.
SANITIZER_REPORT = re.compile(r"==\d+==ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|"
                              r"Sanitizer:DEADLYSIGNAL|\.\w+:\d+:\d+: runtime error: ")


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class Daemon:
    """A daemon started as `program` (bondd, or `bond serve`) with `args`, on a Unix socket in a
    temporary directory (or as `args` say; with `default_socket`, at the default path). Its log
    (stderr) is read as it comes; close() fails on a sanitizer's report in it."""

    def __init__(self, program, *args, socket_path=None, env=None, default_socket=False):
        self.directory = tempfile.TemporaryDirectory(prefix="bondd-test-")
        self.socket_path = socket_path or os.path.join(self.directory.name, "bondd.sock")
        ready_read, ready_write = os.pipe()
        command = [*program, "--ready-fd", str(ready_write)]
        if "--log-level" not in args:
            command += ["--log-level", "debug"]
        if not default_socket and not {"--stdio", "--listen", "--socket"} & set(args):
            command += ["--socket", self.socket_path]
        command += list(args)
        self.process = subprocess.Popen(
            command, pass_fds=[ready_write], stderr=subprocess.PIPE, env=env,
            stdin=subprocess.PIPE if "--stdio" in args else subprocess.DEVNULL,
            stdout=subprocess.PIPE if "--stdio" in args else subprocess.DEVNULL)
        os.close(ready_write)
        self.terminated = False
        self.log_lines = []
        self.log_changed = threading.Condition()
        self.log_reader = threading.Thread(target=self._read_log, daemon=True)
        self.log_reader.start()
        with os.fdopen(ready_read, "rb") as ready:
            readable, _, _ = select.select([ready], [], [], HANG_GUARD)
            self.listeners = ready.read().decode().splitlines() if readable else []
        if not self.listeners:
            self.process.kill()
            raise RuntimeError("the daemon did not start: " + "".join(self.log_lines))
        self.pid = self.process.pid
        for listener in self.listeners:
            if listener.startswith("unix "):
                self.socket_path = listener[len("unix "):]

    def _read_log(self):
        for line in self.process.stderr:
            with self.log_changed:
                self.log_lines.append(line.decode(errors="replace"))
                self.log_changed.notify_all()
        with self.log_changed:
            self.log_lines.append(None)  # end of the log
            self.log_changed.notify_all()

    def wait_for_log(self, pattern, count=1):
        """The first `count` matches of `pattern` in the daemon's log, once there are as many."""
        regex = re.compile(pattern)
        with self.log_changed:
            def matches():
                return [m for m in (regex.search(line) for line in self.log_lines if line) if m]
            done = self.log_changed.wait_for(
                lambda: len(matches()) >= count or None in self.log_lines, HANG_GUARD)
            found = matches()
            if not done or len(found) < count:
                raise AssertionError(f"no {count} lines matching {pattern!r} in the log:\n"
                                     + "".join(line for line in self.log_lines if line))
            return found[:count]

    def log(self):
        with self.log_changed:
            return "".join(line for line in self.log_lines if line)

    def connect(self):
        return Client(self.socket_path)

    def terminate(self, sig=signal.SIGTERM):
        """Sends `sig` and returns the exit status."""
        self.terminated = True
        self.process.send_signal(sig)
        status = self.process.wait(HANG_GUARD)
        self.log_reader.join(HANG_GUARD)
        self.process.stderr.close()
        return status

    def close(self):
        ended_early = not self.terminated and self.process.poll() is not None
        if ended_early:
            self.log_reader.join(HANG_GUARD)
        elif not self.terminated:
            self.terminate()
        self.directory.cleanup()
        log = self.log()
        if ended_early:  # why is in its log; the test that follows from it says what it saw
            print("the daemon had ended; the end of its log:\n"
                  + "".join(log.splitlines(True)[-60:]), file=sys.stderr)
        report = SANITIZER_REPORT.search(log)
        if report:
            raise AssertionError("a sanitizer reported in the daemon:\n" + log[report.start():])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # What the daemon holds, read from /proc.
    def descriptors(self):
        return sorted(os.listdir(f"/proc/{self.pid}/fd"), key=int)

    def threads(self):
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def children(self):
        found = []
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{task}/children") as children:
                    found += [int(pid) for pid in children.read().split()]
            except FileNotFoundError:
                pass
        return sorted(found)


class Client:
    """One connection: requests wait for their reply, meanwhile collecting `output`
    notifications and answering `invoke` requests with the functions in `exports`. With
    `background`, a thread reads the connection instead, so that an `invoke` is answered also
    while no request of this client waits (another client calls the export); a request then
    waits for the thread to hand it its reply."""

    def __init__(self, socket_path=None, sock=None, exports=None, background=False):
        self.sock = sock or socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if socket_path:
            self.sock.connect(socket_path)
        self.sock.settimeout(None if background else HANG_GUARD)
        self.reader = self.sock.makefile("rb")
        self.last_id = 0
        self.outputs = []  # (bond, channel, data) in the order they came
        self.events = []   # ("output", data) and ("reply", id): the order of arrival
        self.exports = dict(exports or {})  # name -> function(bond, *args)
        self.invokes = 0
        self.writing = threading.Lock()  # the reading thread answers invokes meanwhile
        self.background = background
        self.replies = None
        if background:
            self.replies = {}  # id -> the reply message, until its request takes it
            self.replied = threading.Condition()
            self.reading = threading.Thread(target=self._read_in_background, daemon=True)
            self.reading.start()

    def _read_in_background(self):
        try:
            while True:
                message = self.read()
                if "method" not in message and "id" in message:
                    with self.replied:
                        self.replies[message["id"]] = message
                        self.replied.notify_all()
                else:
                    self.take(message)
        except (EOFError, OSError, ValueError):
            with self.replied:
                self.replies = None  # the connection is gone: no reply will come
                self.replied.notify_all()

    def send_line(self, line):
        with self.writing:
            self.sock.sendall(line if isinstance(line, bytes) else line.encode())

    def send(self, message):
        self.send_line(json.dumps(message) + "\n")

    def read(self):
        line = self.reader.readline()
        if not line:
            raise EOFError("the daemon closed the connection")
        return json.loads(line)

    def request_message(self, method, params=None, id=None):
        """Sends one request and returns its whole reply message."""
        if id is None:
            self.last_id += 1
            id = self.last_id
        message = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_reply(id)

    def wait_reply(self, id):
        if self.background:
            with self.replied:
                if not self.replied.wait_for(
                        lambda: self.replies is None or id in self.replies, HANG_GUARD):
                    raise AssertionError(f"no reply to request {id} within {HANG_GUARD} s")
                if self.replies is None:
                    raise EOFError("the daemon closed the connection")
                self.events.append(("reply", id))
                return self.replies.pop(id)
        while True:
            message = self.read()
            if "method" not in message and message.get("id") == id:
                self.events.append(("reply", id))
                return message
            self.take(message)

    def take(self, message):
        method = message.get("method")
        if method == "output":
            params = message["params"]
            self.outputs.append((params["bond"], params["channel"], params["data"]))
            self.events.append(("output", params["data"]))
        elif method == "invoke":
            self.answer_invoke(message)
        elif "id" in message and "method" not in message:
            raise AssertionError(f"a reply nobody waits for: {message}")

    def answer_invoke(self, message):
        params = message["params"]
        self.invokes += 1
        function = self.exports.get(params["name"])
        try:
            if function is None:
                raise KeyError(f"nothing exported as {params['name']}")
            reply = {"result": function(params["bond"], *params["args"])}
        except Exception as error:
            reply = {"error": {"code": -32000, "message": f"{type(error).__name__}: {error}"}}
        self.send({"jsonrpc": "2.0", "id": message["id"], **reply})

    def request(self, method, **params):
        reply = self.request_message(method, params)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def open(self, lang="Python", **params):
        return self.request("open", lang=lang, **params)["bond"]

    def close(self):
        if self.background:  # the reading thread ends at the end of the connection first
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.reading.join(HANG_GUARD)
        self.reader.close()
        self.sock.close()

    def finish(self):
        """Shuts down the sending side and waits for the daemon to close the connection: by then
        it has answered everything and let go of this client's bonds."""
        self.sock.shutdown(socket.SHUT_WR)
        rest = []
        while True:
            line = self.reader.readline()
            if not line:
                break
            rest.append(json.loads(line))
        self.close()
        return rest

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
