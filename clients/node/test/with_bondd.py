#!/usr/bin/env python3
"""Runs the Node client's suite (node:test) against a real bondd, started by the daemon tests'
harness (tests/daemon/bondd_harness.py) on a Unix socket and on TCP with a token; the tests find
them in BOND_TEST_SOCKET, BOND_TEST_ADDRESS and BOND_TEST_TOKEN_FILE. Usage: with_bondd.py
TEST_FILE..."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "daemon"))
from bondd_harness import BONDD, HANG_GUARD, Daemon  # noqa: E402

with tempfile.NamedTemporaryFile("w", suffix=".token") as token_file:
    token_file.write("node-test-token\n")
    token_file.flush()
    with Daemon("--socket", os.path.join(tempfile.gettempdir(), f"bondd-node-{os.getpid()}.sock"),
                "--listen", "127.0.0.1:0", "--token-file", token_file.name) as daemon:
        address = [line.split()[1] for line in daemon.listeners if line.startswith("tcp ")][0]
        environment = dict(os.environ, BOND_TEST_SOCKET=daemon.socket_path,
                           BOND_TEST_ADDRESS=address, BOND_TEST_TOKEN_FILE=token_file.name,
                           BONDD=os.path.abspath(BONDD))
        tests = [os.path.join(HERE, name) for name in sys.argv[1:]]
        result = subprocess.run(["node", "--test", *tests], env=environment, timeout=HANG_GUARD)
sys.exit(result.returncode)
