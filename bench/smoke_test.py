#!/usr/bin/env python3
"""ctest bench/smoke: a quick run of bond_bench for Python completes and writes JSON with every
figure measured. It asserts nothing about speed: that depends on the machine, not on the code.
Usage: smoke_test.py BOND_BENCH OUTPUT_JSON"""
import json
import math
import subprocess
import sys

FIGURES = ["small_call", "object_call", "callback", "payload_1KiB", "payload_64KiB", "payload_1MiB",
           "payload_16MiB", "payload_16MiB_host_memory", "payload_16MiB_host_memory_fixed_trim",
           "startup", "pool_take", "warm_open",
           "daemon_cpp_client", "daemon_python_client", "daemon_python_package",
           "daemon_node_package", "parallel_1", "parallel_2", "parallel_4", "idle_memory"]
# Figures compared with something: their floor is measured too.
WITH_FLOOR = {"small_call", "object_call", "callback", "payload_1KiB", "payload_64KiB", "payload_1MiB",
              "payload_16MiB", "startup", "daemon_cpp_client", "daemon_python_client",
              "daemon_python_package", "daemon_node_package",
              "parallel_2", "parallel_4", "idle_memory"}

bench, output = sys.argv[1:3]
run = subprocess.run([bench, "--quick", "--lang", "python", "--output", output],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
print(run.stdout)
problems = []
if run.returncode != 0:
    problems.append("bond_bench exited with status %d" % run.returncode)
try:
    with open(output) as file:
        report = json.load(file)
except (OSError, ValueError) as error:
    sys.exit("FAILED: no valid JSON in %s: %s" % (output, error))


def positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


for field in ["cpu", "cores", "kernel", "date"]:
    if not report.get("machine", {}).get(field):
        problems.append("machine." + field + " is missing")
if len(report.get("load_average", {}).get("start") or []) != 3:
    problems.append("load_average.start is missing")
python = report.get("languages", {}).get("python", {})
if not python.get("version"):
    problems.append("the interpreter's version is missing")
if python.get("errors"):
    problems.append("errors: %s" % python["errors"])
figures = python.get("figures", {})
for key in FIGURES:
    figure = figures.get(key)
    if figure is None:
        problems.append(key + " is missing")
        continue
    if not positive(figure.get("value")):
        problems.append("%s has no value: %r" % (key, figure.get("value")))
    if key in WITH_FLOOR and not (positive(figure.get("floor")) and positive(figure.get("ratio"))):
        problems.append("%s has no floor or ratio" % key)
    if figure.get("target") is not None and not isinstance(figure.get("met"), bool):
        problems.append("%s has a target but no verdict" % key)
if problems:
    sys.exit("FAILED:\n  " + "\n  ".join(problems))
print("smoke run complete: %d figures" % len(FIGURES))
