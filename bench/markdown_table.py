#!/usr/bin/env python3
"""Prints a results file of bond_bench (bench/results/latest.json) as the Markdown table of
docs/performance.md: each figure per language as bond / floor = ratio, ✓ or ✗ for a target.
Usage: markdown_table.py [RESULTS_JSON]"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
from languages import TABLE  # noqa: E402  (drivers/registry.json with tests/languages.json)

ROWS = [("small_call", "call, calls/s"), ("callback", "callback, calls/s"),
        ("payload_1KiB", "payload 1 KiB, MiB/s"), ("payload_64KiB", "payload 64 KiB, MiB/s"),
        ("payload_1MiB", "payload 1 MiB, MiB/s"), ("payload_16MiB", "payload 16 MiB, MiB/s"),
        ("payload_16MiB_host_memory", "host memory, 16 MiB call, MiB (× payload)"),
        ("payload_16MiB_host_memory_fixed_trim",
         "the same, MALLOC_TRIM_THRESHOLD_=131072, MiB (× payload)"),
        ("startup", "start-up, ms (+ over the interpreter)"), ("warm_open", "bondd warm open, ms"),
        ("daemon_cpp_client", "bondd, C++ client, calls/s"),
        ("daemon_python_client", "bondd, Python client, calls/s"),
        ("daemon_python_package", "bondd, clients/python / raw loop, calls/s"),
        ("daemon_node_package", "bondd, clients/node / raw loop, calls/s"),
        ("parallel_1", "parallel, 1 bond, calls/s"), ("parallel_2", "parallel, 2 bonds, calls/s"),
        ("parallel_4", "parallel, 4 bonds, calls/s")]


def number(value, unit):
    if value is None:
        return "-"
    if unit == "calls/s":
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def cell(figure):
    if figure is None:
        return "-"
    unit, value, floor, ratio = figure["unit"], figure["value"], figure["floor"], figure["ratio"]
    text = number(value, unit)
    if figure["title"].startswith("start-up") and value is not None and floor is not None:
        text += f" / {number(floor, unit)} (+{value - floor:.1f})"
    elif unit == "MiB" and ratio is not None:
        text += f" ({ratio:.2f} ×)"
    elif floor is not None and ratio is not None:
        text += f" / {number(floor, unit)} = {ratio:.2f}"
    if figure["met"] is not None:
        text += " ✓" if figure["met"] else " ✗"
    return text


report = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json"))
# The JSON's objects are sorted by name; the table keeps bond_bench's order: the registry's, each
# language followed by its variants.
ORDER = [key for entry in TABLE for key in [entry["key"], *entry["bench"].get("variants", {})]]
languages = dict(sorted(report["languages"].items(),
                        key=lambda item: ORDER.index(item[0]) if item[0] in ORDER else len(ORDER)))
print("| figure | " + " | ".join(languages) + " |")
print("|---" * (len(languages) + 1) + "|")
for key, title in ROWS:
    cells = [cell(language["figures"].get(key)) for language in languages.values()]
    if any(c != "-" for c in cells):
        print(f"| {title} | " + " | ".join(cells) + " |")
