"""What the command-line tests share: the bond executable, running it, a daemon started with
`bond serve`, and a small JSON-RPC client of that daemon (standard library only).

Waiting is on events (a process's exit, a line of output, the daemon's ready line) with generous
deadlines that only guard against hangs; nothing sleeps to synchronise.
"""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from languages import BY_KEY  # noqa: E402,F401  (tests/languages.json)

BOND = os.environ.get("BOND_CLI") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bond")
HANG_GUARD = 120  # seconds: only a hang takes this long


def run(*args, input=None, env=None, cwd=None):
    """Runs `bond ARGS...` to its end: (exit status, stdout, stderr) as text."""
    completed = subprocess.run([BOND, *args], input=input, capture_output=True, text=True,
                               env=env, cwd=cwd, timeout=HANG_GUARD)
    return completed.returncode, completed.stdout, completed.stderr


def read_line(stream, deadline=HANG_GUARD):
    """One line of a pipe, waiting at most `deadline` seconds for it."""
    readable, _, _ = select.select([stream], [], [], deadline)
    if not readable:
        raise AssertionError("no line came within %d s" % deadline)
    return stream.readline()


class Daemon:
    """`bond serve` on a Unix socket in a temporary directory, stopped with SIGTERM."""

    def __init__(self, *args):
        self.directory = tempfile.TemporaryDirectory(prefix="bond-cli-test-")
        self.socket_path = os.path.join(self.directory.name, "bondd.sock")
        ready_read, ready_write = os.pipe()
        self.process = subprocess.Popen(
            [BOND, "serve", "--socket", self.socket_path, "--ready-fd", str(ready_write), *args],
            pass_fds=[ready_write], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.close(ready_write)
        with os.fdopen(ready_read) as ready:
            self.ready_line = read_line(ready).strip()

    def stop(self):
        """SIGTERM; the daemon's exit status and its log."""
        self.process.terminate()
        _, log = self.process.communicate(timeout=HANG_GUARD)
        self.directory.cleanup()
        return self.process.returncode, log.decode(errors="replace")


class Client:
    """A client of the daemon that may export functions: `invoke`s are answered by a thread."""

    def __init__(self, socket_path, exports=None):
        self.connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.connection.settimeout(HANG_GUARD)
        self.connection.connect(socket_path)
        self.exports = exports or {}
        self.next_id = 0
        self.answers = {}
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.connection.makefile("rb"):
            message = json.loads(line)
            if message.get("method") == "invoke":
                params = message["params"]
                result = self.exports[params["name"]](*params["args"])
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            elif "id" in message:
                with self.changed:
                    self.answers[message["id"]] = message
                    self.changed.notify_all()

    def _send(self, message):
        self.connection.sendall((json.dumps(message) + "\n").encode())

    def request(self, method, **params):
        with self.changed:
            self.next_id += 1
            request_id = self.next_id
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        with self.changed:
            if not self.changed.wait_for(lambda: request_id in self.answers, HANG_GUARD):
                raise AssertionError("no answer to %s within %d s" % (method, HANG_GUARD))
            answer = self.answers.pop(request_id)
        if "error" in answer:
            raise AssertionError("%s failed: %s" % (method, answer["error"]))
        return answer["result"]

    def close(self):
        self.connection.close()
