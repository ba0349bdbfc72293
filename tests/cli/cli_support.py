"""What the command-line tests share: the bond executable, running it, a daemon started with
`bond serve`, and the JSON-RPC client of tests/support/daemon_client.py (standard library only).

Waiting is on events (a process's exit, a line of output, the daemon's ready line) with generous
deadlines that only guard against hangs; nothing sleeps to synchronise.
"""
import os
import select
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import daemon_client  # noqa: E402
from daemon_client import HANG_GUARD  # noqa: E402
from languages import BY_KEY, REGISTERED, REGISTRY  # noqa: E402,F401  (tests/support/languages.py)

BOND = os.environ.get("BOND_CLI") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bond")


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


class Daemon(daemon_client.Daemon):
    """`bond serve` on a Unix socket in a temporary directory (see daemon_client.Daemon: its log
    is read as it comes, and a sanitizer's report in it fails the test)."""

    def __init__(self, *args):
        super().__init__([BOND, "serve"], *args)
        self.ready_line = self.listeners[0]

    def stop(self):
        """SIGTERM; the daemon's exit status and its log."""
        status = self.terminate()
        self.close()
        return status, self.log()


class Client(daemon_client.Client):
    """A client of the daemon whose `exports` (name -> function(*args)) are answered whenever
    the daemon asks, by a thread that reads the connection."""

    def __init__(self, socket_path, exports=None):
        super().__init__(socket_path, background=True, exports={
            name: lambda bond, *args, function=function: function(*args)
            for name, function in (exports or {}).items()})
