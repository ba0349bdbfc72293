#!/usr/bin/env python3
"""The Python client's figure: calls ident(i) on a bond of bondd through clients/python's
bond_client (Bond.call), as bondd_calls.py does through the raw request loop, and prints the
calls per second of each repetition as JSON. Usage: python_client_calls.py SOCKET LANG
DEFINE_IDENT SECONDS REPETITIONS"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients",
                                "python"))
from bond_client import Client  # noqa: E402

socket_path, lang, define_ident = sys.argv[1:4]
seconds, repetitions = float(sys.argv[4]), int(sys.argv[5])


def batch(bond, count):
    call = bond.call
    start = time.perf_counter()
    for i in range(count):
        if call("ident", i) != i:
            raise RuntimeError("ident(%d) did not return %d" % (i, i))
    return time.perf_counter() - start


with Client(socket_path) as client:
    bond = client.open(lang)
    bond.eval_block(define_ident)
    warmup = 50
    count = max(1, int(seconds / (batch(bond, warmup) / warmup)))
    rates = [count / batch(bond, count) for _ in range(repetitions)]
    bond.close()
print(json.dumps({"calls_per_second": rates, "calls_per_repetition": count}))
