"""What the daemon's end-to-end tests share: a real bondd started on a temporary socket, and the
JSON-RPC client of tests/support/daemon_client.py (shared with tests/cli and bench/clients).
"""
import os
import select
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import daemon_client  # noqa: E402
from daemon_client import HANG_GUARD, Client, RpcError  # noqa: E402,F401
from languages import BY_NAME, REGISTERED, TABLE  # noqa: E402,F401  (the languages: tests/support/languages.py)

BONDD = os.environ.get("BONDD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bondd")


class Daemon(daemon_client.Daemon):
    """bondd, started with `args` (see daemon_client.Daemon)."""

    def __init__(self, *args, **options):
        super().__init__([BONDD], *args, **options)


class DaemonTestCase(unittest.TestCase):
    """Tests that share one daemon (started with DAEMON_ARGS), each with a client of its own."""
    DAEMON_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(*cls.DAEMON_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()

    def setUp(self):
        self.client = self.daemon.connect()

    def tearDown(self):
        self.client.close()

    def error_of(self, method, **params):
        """The RpcError that this client's `method` request fails with."""
        with self.assertRaises(RpcError) as raised:
            self.client.request(method, **params)
        return raised.exception


def tcp_client(daemon):
    """A client connected to the daemon's TCP listener (not yet authenticated)."""
    address = [line.split()[1] for line in daemon.listeners if line.startswith("tcp ")][0]
    host, port = address.rsplit(":", 1)
    return Client(sock=socket.create_connection((host, int(port)), timeout=HANG_GUARD))


def wait_exited(pid, timeout=HANG_GUARD):
    """True once process `pid` has ended (at once if it has already), False after `timeout`."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(pidfd)


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited too.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
