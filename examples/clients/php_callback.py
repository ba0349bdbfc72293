#!/usr/bin/env python3
"""A bondd client in plain Python: opens a PHP bond, exports a Python function to it and lets
PHP call it back. Usage: php_callback.py [SOCKET] (default: bondd's default socket)."""
import itertools, json, os, socket, sys

runtime = os.environ.get("XDG_RUNTIME_DIR")
default = f"{runtime}/bond/bondd.sock" if runtime else f"/tmp/bond-{os.getuid()}/bondd.sock"
connection = socket.socket(socket.AF_UNIX)
connection.connect(sys.argv[1] if len(sys.argv) > 1 else default)
stream = connection.makefile("rw", encoding="utf-8")
exports = {"py_upper": lambda text: text.upper()}  # what the PHP code may call
ids = itertools.count(1)
answers = {}  # by id: answers to other requests that came while one was awaited

def send(message):
    stream.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    stream.flush()

def request(method, **params):
    my_id = next(ids)
    send({"id": my_id, "method": method, "params": params})
    while my_id not in answers:  # meanwhile serve PHP's calls into Python and show its output
        message = json.loads(stream.readline())
        if message.get("method") == "invoke":
            call = message["params"]
            send({"id": message["id"], "result": exports[call["name"]](*call["args"])})
        elif message.get("method") == "output":
            print(message["params"]["data"], end="")
        elif "id" in message:  # an answer, maybe to another request: kept, never dropped
            answers[message["id"]] = message
    message = answers.pop(my_id)
    if "error" in message:
        raise RuntimeError(message["error"]["message"])
    return message["result"]

bond = request("open", lang="PHP")["bond"]
request("export", bond=bond, name="py_upper")
request("eval_block", bond=bond, code='function shout($s) { echo "PHP got: $s\\n"; return py_upper($s) . "!"; }')
print(request("call", bond=bond, name="shout", args=["hello from python"]))
request("close", bond=bond)
