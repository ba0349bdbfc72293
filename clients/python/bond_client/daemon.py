"""Where a client finds bondd: the default socket of a running daemon, or the program to start
as a private daemon, which serves this process alone over a socket pair (`bondd --stdio`) and
ends with the connection: when the client closes, or when this process ends in any way."""
import os
import shutil
import socket
import subprocess

from .errors import BondException

# The source tree's build (clients/python/bond_client/ -> build/bondd), for a client used from a
# checkout.
_SOURCE_BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                             "build", "bondd")


def default_socket_path():
    """Where bondd listens by default: $XDG_RUNTIME_DIR/bond/bondd.sock, else
    /tmp/bond-$UID/bondd.sock (docs/daemon.md)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "bond", "bondd.sock")
    return f"/tmp/bond-{os.getuid()}/bondd.sock"


def find_bondd(program=None):
    """The bondd to start: `program` if given, else $BONDD, else the one built in the source
    tree this package is part of, else `bondd` on PATH."""
    for candidate in (program, os.environ.get("BONDD")):
        if candidate:
            return candidate
    if os.access(_SOURCE_BUILD, os.X_OK):
        return os.path.normpath(_SOURCE_BUILD)
    found = shutil.which("bondd")
    if found:
        return found
    raise BondException("bondd was not found: pass bondd=PATH, set BONDD, or put bondd on PATH")


class PrivateDaemon:
    """`bondd --stdio` on one end of a socket pair; `socket` is the client's end."""

    def __init__(self, program=None, args=()):
        command = [find_bondd(program), "--stdio", "--log-level", "error", *args]
        ours, theirs = socket.socketpair()
        try:
            # A session of its own: the terminal's Ctrl+C interrupts the client's call (which
            # interrupts the remote code) instead of killing the daemon.
            self.process = subprocess.Popen(command, stdin=theirs, stdout=theirs,
                                            start_new_session=True)
        except OSError as error:
            ours.close()
            raise BondException(f"bondd could not be started: {command[0]}: {error}") from None
        finally:
            theirs.close()
        self.socket = ours

    def wait(self, timeout=None):
        """Once the connection is closed: waits for the daemon to have closed every bond and
        exited."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
