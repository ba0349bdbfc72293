"""python-bond 1.4's API on bondd: `make_bond(lang, ...)` and its Bond, the exceptions and
list_drivers(), so that a program written for the earlier host runs unchanged. Every bond of
this module is held by one private bondd that the module starts at the first make_bond() and
that ends with the program. Where the semantics differ (JSON only, no pickle; trans_except;
timeout; logfile), docs/clients.md says how."""
import builtins
import os
import threading

import bond_client
from bond_client import (BondException, Interrupted, LimitExceeded, RemoteException,
                         SerializationException, TerminatedException, TimeoutException)

__all__ = ["make_bond", "list_drivers", "Bond", "BondException", "TerminatedException",
           "SerializationException", "RemoteException", "Interrupted", "LimitExceeded",
           "TimeoutException"]

_client = None
_client_lock = threading.Lock()
_logfiles = []  # the logfile= of every bond: each sees the shared connection's lines


def _log_traffic(direction, line):
    text = f"{direction} {line.decode('utf-8', 'replace')}"
    for logfile in list(_logfiles):
        try:
            logfile.write(text)
            logfile.flush()
        except (OSError, ValueError):
            _logfiles.remove(logfile)


def _shared_client():
    global _client
    with _client_lock:
        if _client is None or _client._connection.ended:
            _client = _CompatibleClient()
            _client._connection.on_traffic = _log_traffic
        return _client


def list_drivers():
    """The languages a bond can be made with."""
    return _shared_client().drivers()


def _exception_of(data):
    """A trans_except exception's serialized form as the Python exception it was, where it is
    one of Python's built-in exceptions; else the form (a dict) as it came."""
    if isinstance(data, dict) and data.get("module") == "builtins":
        kind = getattr(builtins, str(data.get("type")), None)
        if isinstance(kind, type) and issubclass(kind, BaseException):
            try:
                return kind(*data.get("args", ()))
            except Exception:
                pass
    return data


class Bond(bond_client.Bond):
    """A bond as python-bond 1.4 made it (bond_client.Bond, plus interact())."""
    trans_except = False

    def _request(self, method, params):
        try:
            return super()._request(method, params)
        except RemoteException as error:
            if self.trans_except:
                error.data = _exception_of(error.data)
            raise

    def interact(self):
        """A read-eval loop on the bond: each line runs with eval_block(); a line starting with
        "!" is an expression whose value is printed; a trailing "\\" continues the line; Ctrl+C
        drops the lines typed so far; Ctrl+D ends it."""
        prompt = f"{self.lang}> "
        continuation = "." * (len(prompt) - 2) + "> "
        lines = []
        while True:
            try:
                line = input(continuation if lines else prompt)
            except EOFError:
                print()
                return
            except KeyboardInterrupt:
                print()
                lines = []
                continue
            if line.endswith("\\"):
                lines.append(line[:-1])
                continue
            code = "\n".join(lines + [line])
            lines = []
            if not code.strip():
                continue
            try:
                if code.startswith("!"):
                    print(self.eval(code[1:]))
                else:
                    self.eval_block(code)
            except BondException as error:
                print(f"{type(error).__name__}: {error}")
            except KeyboardInterrupt:
                print("interrupted")


class _CompatibleClient(bond_client.Client):
    bond_class = Bond


def make_bond(lang, cmd=None, args=None, cwd=None, env=os.environ, def_args=True,
              trans_except=None, timeout=60, protocol=None, logfile=None):
    """A bond with an interpreter of `lang`, as python-bond 1.4's make_bond."""
    if protocol is not None and str(protocol).upper() != "JSON":
        raise BondException(f"the protocol {protocol} is not supported: bonds speak JSON only")
    if trans_except is None:
        trans_except = str(lang).lower() in ("python", "python3")
    if logfile is not None:
        _logfiles.append(logfile)
    client = _shared_client()
    bond = client.open(lang, command=cmd, args=args,
                       cwd=os.getcwd() if cwd is None else cwd,
                       env=dict(os.environ if env is None else env), def_args=def_args,
                       trans_except=trans_except,
                       start_timeout=timeout)
    bond.trans_except = trans_except
    return bond
