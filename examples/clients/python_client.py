#!/usr/bin/env python3
"""bond_client (clients/python): PHP's explode from Python, and PHP calling Python back.
Usage: python_client.py [SOCKET] (default: a private bondd, started for this program)."""
import sys

from bond_client import Client

with Client(*sys.argv[1:2]) as client, client.open("PHP") as php:
    @php.export
    def shout(text):
        return text.upper() + "!"

    php.eval_block('function greet($name) { echo "PHP greets $name\\n"; return shout($name); }')
    print(php.call("explode", " ", "a b c"))
    print(php.call("greet", "python"))
