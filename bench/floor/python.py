# The floor of a Python bond: read one JSON-RPC request line, call an identity function, write
# one reply line. Nothing else: what any bond over pipes with Python's json must at least spend.
import json
import sys

encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # as the driver's
decode = json.loads


def ident(x):
    return x


stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
for line in stdin:
    request = decode(line)
    reply = {"jsonrpc": "2.0", "id": request["id"], "result": ident(*request["params"]["args"])}
    stdout.write(encoder.encode(reply).encode() + b"\n")
    stdout.flush()
