"""A client of bondd, the bond daemon (docs/clients.md): call PHP, Perl, JavaScript and Python
interpreters that bondd holds, and let them call back."""
from .aio import AsyncBond, AsyncClient, AsyncRemoteObject
from .client import Bond, Client, RemoteObject, write_output
from .daemon import default_socket_path, find_bondd
from .errors import (BondException, Interrupted, LimitExceeded, ProtocolError, RemoteException,
                     SerializationException, TerminatedException, TimeoutException)
from .values import Ref

__all__ = ["Client", "Bond", "RemoteObject", "AsyncClient", "AsyncBond", "AsyncRemoteObject",
           "Ref", "BondException", "TerminatedException",
           "SerializationException", "RemoteException", "Interrupted", "LimitExceeded",
           "TimeoutException", "ProtocolError", "default_socket_path", "find_bondd",
           "write_output"]
