"""The languages as the Python tests (tests/cli, tests/daemon) and bench/markdown_table.py see
them: each language of drivers/registry.json (the facts about the language itself) with its entry
of tests/languages.json (the snippets the tests run) merged in, as
tests/support/language_table.hpp does for the C++ tests. TABLE lists the languages in the
registry's order, one dict each, with "key" (the name in lower case) and "interpreter" (the
command) added; BY_NAME and BY_KEY find one by its name ("PHP") or its key ("php"). TABLE leaves
out a language whose entry says "shared_suites": false (Pyodide: tests/pyodide has its own
tests); REGISTERED names every language of the registry, in its order, and REGISTRY has each
one's registry entry by name."""
import json
import os

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def _read(*path):
    with open(os.path.join(_ROOT, *path), encoding="utf-8") as file:
        return json.load(file)


def _merged(language, own):
    entry = {**language, "key": language["name"].lower(), "interpreter": language["command"]}
    for field, value in own.items():
        both = isinstance(value, dict) and isinstance(entry.get(field), dict)
        entry[field] = {**entry[field], **value} if both else value  # "notes" of both kept
    return entry


_SNIPPETS = {entry["name"]: entry for entry in _read("tests", "languages.json")["languages"]}
_REGISTRY = _read("drivers", "registry.json")["languages"]
REGISTERED = [language["name"] for language in _REGISTRY]
REGISTRY = {language["name"]: language for language in _REGISTRY}
TABLE = [_merged(language, _SNIPPETS[language["name"]]) for language in _REGISTRY
         if _SNIPPETS[language["name"]].get("shared_suites", True)]
BY_NAME = {entry["name"]: entry for entry in TABLE}
BY_KEY = {entry["key"]: entry for entry in TABLE}
