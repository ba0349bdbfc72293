"""The warm pool (--pool LANG=N): open hands out an interpreter started in advance, and each one
handed out is replaced."""
import os
import signal
import subprocess
import unittest

from bondd_harness import BONDD, HANG_GUARD, Daemon, wait_exited

READY = r"warm pool: a (\w+) interpreter is ready \(bond (b\d+), pid (\d+)\)"


def pool_pids(daemon, count):
    return [int(match.group(3)) for match in daemon.wait_for_log(READY, count)]


class Pool(unittest.TestCase):
    def test_open_takes_a_started_interpreter_and_the_pool_refills(self):
        with Daemon("--pool", "python=2", "--pool", "Perl=1") as daemon:
            ready = pool_pids(daemon, 3)
            with daemon.connect() as client:
                bonds = [client.open("py"), client.open("Python"), client.open("perl")]
                listed = {entry["bond"]: entry["pid"] for entry in client.request("list")}
                self.assertEqual(sorted(listed[bond] for bond in bonds), sorted(ready))
                self.assertEqual(
                    client.request("eval", bond=bonds[0], code="__import__('os').getpid()"),
                    listed[bonds[0]])
                daemon.wait_for_log(r"from the warm pool", count=3)
                refilled = pool_pids(daemon, 6)[3:]
                self.assertTrue(set(refilled).isdisjoint(ready))
                # Asking for anything but the defaults starts an interpreter of its own.
                own = client.open("python", cwd="/")
                pid = [e["pid"] for e in client.request("list") if e["bond"] == own][0]
                self.assertNotIn(pid, ready + refilled)

    def test_a_pooled_interpreter_that_died_is_not_handed_out(self):
        with Daemon("--pool", "python=1") as daemon:
            [dead] = pool_pids(daemon, 1)
            os.kill(dead, signal.SIGKILL)
            self.assertTrue(wait_exited(dead))
            with daemon.connect() as client:
                bond = client.open()
                self.assertEqual(client.request("eval", bond=bond, code="1 + 1"), 2)
                pid = client.request("eval", bond=bond, code="__import__('os').getpid()")
                self.assertNotEqual(pid, dead)
            daemon.wait_for_log(r"had ended; dropped")

    def test_an_unknown_language_or_count_is_refused_at_start(self):
        for pool in ["cobol=1", "python", "python=x", "=2"]:
            with self.subTest(pool=pool):
                result = subprocess.run([BONDD, "--socket", "/nonexistent/s", "--pool", pool],
                                        capture_output=True, text=True, timeout=HANG_GUARD)
                self.assertEqual(result.returncode, 1)
                self.assertIn("--pool", result.stderr)


if __name__ == "__main__":
    unittest.main()
