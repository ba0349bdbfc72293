#!/usr/bin/env python3
"""Benchmark (run by hand, not by ctest): how long `open` takes with and without the warm pool.

For each language it starts bondd twice, once plain and once with --pool LANG=1, and times
ROUNDS opens from sending the request to receiving the answer, closing each bond before the
next open. With the pool, each open waits until the pool has refilled (its log line), so every
open finds a warm interpreter. Prints the median and the slowest of each.

    BONDD=build/bondd python3 tests/daemon/open_latency.py [ROUNDS]
"""
import statistics
import sys
import time

from bondd_harness import TABLE, Daemon

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
READY = r"warm pool: a \w+ interpreter is ready"


def time_opens(daemon, lang, pooled):
    durations = []
    with daemon.connect() as client:
        for round in range(ROUNDS):
            if pooled:
                daemon.wait_for_log(READY, count=round + 1)
            start = time.perf_counter()
            bond = client.open(lang)
            durations.append(time.perf_counter() - start)
            client.request("close", bond=bond)
    return durations


def describe(durations):
    return f"{statistics.median(durations) * 1000:8.1f} ms {max(durations) * 1000:8.1f} ms"


print(f"open latency over {ROUNDS} opens each: median, slowest")
print(f"{'language':<12}{'without the pool':>24}{'with --pool LANG=1':>26}")
for lang in [entry["name"] for entry in TABLE]:
    with Daemon("--log-level", "info") as daemon:
        cold = time_opens(daemon, lang, pooled=False)
    with Daemon("--log-level", "info", "--pool", f"{lang}=1") as daemon:
        warm = time_opens(daemon, lang, pooled=True)
    print(f"{lang:<12}{describe(cold):>24}{describe(warm):>26}")
