"""What the client's tests share: this checkout's bond_client and bond on sys.path, and the
daemon tests' harness (tests/daemon/bondd_harness.py: a real bondd on a temporary socket)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.normpath(os.path.join(HERE, ".."))
REPOSITORY = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, PACKAGE_ROOT)
sys.path.insert(0, os.path.join(REPOSITORY, "tests", "daemon"))

from bondd_harness import BONDD, HANG_GUARD, Daemon, DaemonTestCase  # noqa: E402,F401  (re-exported)
import bond_client  # noqa: E402,F401


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
