#!/usr/bin/env python3
"""The daemon figure from Python: calls ident(i) on a bond of bondd, through the JSON-RPC client the
tests use (tests/support/daemon_client.py, standard library only), and prints the calls per
second of each repetition as JSON. Usage: bondd_calls.py SOCKET LANG DEFINE_IDENT SECONDS
REPETITIONS"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "support"))
from daemon_client import Client  # noqa: E402

socket_path, lang, define_ident = sys.argv[1:4]
seconds, repetitions = float(sys.argv[4]), int(sys.argv[5])


def batch(bond, count):
    start = time.perf_counter()
    for i in range(count):
        if client.request("call", bond=bond, name="ident", args=[i]) != i:
            raise RuntimeError("ident(%d) did not return %d" % (i, i))
    return time.perf_counter() - start


client = Client(socket_path)
bond = client.request("open", lang=lang)["bond"]
client.request("eval_block", bond=bond, code=define_ident)
warmup = 50
count = max(1, int(seconds / (batch(bond, warmup) / warmup)))
rates = [count / batch(bond, count) for _ in range(repetitions)]
client.request("close", bond=bond)
print(json.dumps({"calls_per_second": rates, "calls_per_repetition": count}))
