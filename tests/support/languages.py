"""tests/languages.json for the Python tests (tests/cli, tests/daemon): the one table of the
languages' plain-text facts, which the C++ tests and the benchmark read too. TABLE lists the
languages in the table's order, one dict each; BY_NAME and BY_KEY find one by its name ("PHP")
or its key ("php")."""
import json
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "languages.json"),
          encoding="utf-8") as _file:
    TABLE = json.load(_file)["languages"]
BY_NAME = {entry["name"]: entry for entry in TABLE}
BY_KEY = {entry["key"]: entry for entry in TABLE}
