#!/usr/bin/env python3
"""The daemon figure from Python: calls ident(i) on a bond of bondd, through the request loop of
examples/clients/php_callback.py (standard library only), and prints the calls per second of
each repetition as JSON. Usage: bondd_calls.py SOCKET LANG DEFINE_IDENT SECONDS REPETITIONS"""
import itertools, json, socket, sys, time

socket_path, lang, define_ident = sys.argv[1:4]
seconds, repetitions = float(sys.argv[4]), int(sys.argv[5])


class Client:
    """One request at a time over bondd's Unix socket; output notifications are skipped (the
    request loop of examples/clients/php_callback.py without invoke: nothing is exported)."""

    def __init__(self, path):
        self.connection = socket.socket(socket.AF_UNIX)
        self.connection.connect(path)
        self.stream = self.connection.makefile("rw", encoding="utf-8")
        self.ids = itertools.count(1)

    def request(self, method, **params):
        my_id = next(self.ids)
        line = json.dumps({"jsonrpc": "2.0", "id": my_id, "method": method, "params": params})
        self.stream.write(line + "\n")
        self.stream.flush()
        for answer in map(json.loads, self.stream):
            if answer.get("id") != my_id:
                continue
            if "error" in answer:
                raise RuntimeError(answer["error"]["message"])
            return answer["result"]
        raise RuntimeError("bondd closed the connection")


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
