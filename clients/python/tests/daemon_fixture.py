"""What the client's tests share: this checkout's bond_client and bond on sys.path, and the
daemon tests' harness (tests/daemon/bondd_harness.py: a real bondd on a temporary socket)."""
import contextlib
import os
import socket
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.normpath(os.path.join(HERE, ".."))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, PACKAGE_ROOT)
sys.path.insert(0, os.path.join(REPOSITORY, "tests", "daemon"))

from bondd_harness import BONDD, HANG_GUARD, REGISTERED, TABLE, Daemon, DaemonTestCase  # noqa: E402,F401
import bond_client  # noqa: E402,F401

LANGUAGE_NAMES = REGISTERED  # drivers/registry.json's, in order


class ClientTestCase(DaemonTestCase):
    """One daemon for the class (with DAEMON_ARGS), a bond_client.Client on it for each test,
    whose output is collected in self.output."""

    def setUp(self):
        self.output = []
        self.client = bond_client.Client(
            self.daemon.socket_path,
            on_output=lambda bond, channel, data: self.output.append((channel, data)))

    def tearDown(self):
        self.client.close()


def environment_for_programs():
    """The environment of a program run by a test: this checkout's packages importable and
    the tests' bondd found."""
    return dict(os.environ, PYTHONPATH=PACKAGE_ROOT, BONDD=os.path.abspath(BONDD))


@contextlib.contextmanager
def peer_answering_garbage():
    """The path of a Unix socket whose peer (not bondd: a hostile one) answers the first request
    with an `output` notification and then a line that is not JSON."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "garbage.sock")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        listener.listen()

        def answer_garbage():
            connection, _ = listener.accept()
            with connection, connection.makefile("rb") as requests:
                requests.readline()
                connection.sendall(b'{"jsonrpc":"2.0","method":"output","params":'
                                   b'{"bond":"b1","channel":"stdout","data":"kept"}}\n'
                                   b"<html>not json</html>\n")
                requests.read()  # until the client closes the connection
        server = threading.Thread(target=answer_garbage)
        server.start()
        try:
            yield path
        finally:
            server.join()
            listener.close()
