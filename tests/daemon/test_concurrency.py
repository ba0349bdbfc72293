"""Bonds work in parallel: a slow call on one bond delays no other bond or client, and many
clients with many bonds work at once without errors, leaving nothing behind."""
import os
import tempfile
import threading
import unittest

from bondd_harness import HANG_GUARD, Daemon, tcp_client, wait_exited


class SlowBond(unittest.TestCase):
    def test_a_slow_bond_does_not_delay_another_client(self):
        """One bond sleeps (2 s, or until the test lets it go) while another client completes
        100 calls. The slow call cannot end before the test lets it, so what is asserted is the
        order of events, not how fast the machine is."""
        with Daemon() as daemon, tempfile.TemporaryDirectory() as scratch, \
                daemon.connect() as slow, daemon.connect() as fast:
            gate = os.path.join(scratch, "gate")
            os.mkfifo(gate)
            slow_bond = slow.open()
            fast_bond = fast.open()
            # The slow call: sleeps 2 s, then waits until the test opens the fifo.
            slow.send({"jsonrpc": "2.0", "id": 1, "method": "eval_block",
                       "params": {"bond": slow_bond, "code":
                                  "import time\n"
                                  "print('asleep', flush=True)\n"
                                  "time.sleep(2)\n"
                                  f"open({gate!r}).read()\n"}})
            self.assertEqual(slow.read()["params"]["data"], "asleep\n")  # it is running now
            for i in range(100):
                self.assertEqual(fast.request("call", bond=fast_bond, name="abs", args=[-i]), i)
            # The same client's other bond is not held up either.
            other_bond = slow.open()
            self.assertEqual(slow.request("eval", bond=other_bond, code="'free'"), "free")
            with open(gate, "w"):
                pass  # lets the slow call finish
            self.assertEqual(slow.wait_reply(1)["result"], None)

    def test_requests_on_a_busy_bond_wait_their_turn_in_order(self):
        with Daemon() as daemon, daemon.connect() as first, daemon.connect() as second:
            bond = first.open(name="one-at-a-time")
            second.request("attach", name="one-at-a-time")
            first.request("eval_block", bond=bond, code="log = []")
            first.send({"jsonrpc": "2.0", "id": 1, "method": "eval_block",
                        "params": {"bond": bond, "code":
                                   "print('started', flush=True)\n"
                                   "__import__('time').sleep(0.5)\nlog.append('first')"}})
            self.assertEqual(first.read()["params"]["data"], "started\n")
            second.send({"jsonrpc": "2.0", "id": 2, "method": "eval_block",
                         "params": {"bond": bond, "code": "log.append('second')"}})
            self.assertIn("result", second.wait_reply(2))
            self.assertIn("result", first.wait_reply(1))
            self.assertEqual(first.request("eval", bond=bond, code="log"), ["first", "second"])


class Load(unittest.TestCase):
    CLIENTS = 20
    BONDS = 4
    CALLS = 500

    def test_20_clients_4_bonds_500_calls_each_without_errors_or_leaks(self):
        """Half of the clients over the Unix socket, half over TCP on loopback."""
        with tempfile.TemporaryDirectory() as scratch:
            token_file = os.path.join(scratch, "token")
            with open(token_file, "w") as token:
                token.write("load-test-token")
            with Daemon("--log-level", "info", "--socket", os.path.join(scratch, "bondd.sock"),
                        "--listen", "127.0.0.1:0", "--token-file", token_file) as daemon:
                self.run_load(daemon)

    def connect(self, daemon, index):
        if index % 2 == 0:
            return daemon.connect()
        client = tcp_client(daemon)
        client.request("auth", token="load-test-token")
        return client

    def run_load(self, daemon):
        # What the daemon holds when idle, with one client connected to look.
        with daemon.connect() as probe:
            probe.request("drivers")
            descriptors, threads = daemon.descriptors(), daemon.threads()
        if "thread" in os.environ.get("BOND_SANITIZED", "") and threads == 1:
            threads += 1  # ThreadSanitizer's own, started with the daemon's first thread, stays
        errors = []
        interpreters = []
        lock = threading.Lock()

        def work(index):
            try:
                with self.connect(daemon, index) as client:
                    bonds = [client.open() for _ in range(self.BONDS)]
                    pids = [client.request("eval", bond=b, code="__import__('os').getpid()")
                            for b in bonds]
                    with lock:
                        interpreters.extend(pids)
                    for call in range(self.CALLS):
                        for bond in bonds:
                            value = [index, call, "x" * (call % 50)]
                            if client.request("call", bond=bond, name="list",
                                              args=[value]) != value:
                                raise AssertionError(f"wrong answer for {value}")
                    for bond in bonds:
                        client.request("close", bond=bond)
                    client.finish()
            except Exception as error:  # reported below, with every other
                with lock:
                    errors.append(f"client {index}: {error!r}")

        workers = [threading.Thread(target=work, args=(i,)) for i in range(self.CLIENTS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(HANG_GUARD * 5)
            self.assertFalse(worker.is_alive(), "a client hung")
        self.assertEqual(errors, [])
        self.assertEqual(len(interpreters), self.CLIENTS * self.BONDS)
        self.assertTrue(all(wait_exited(pid, timeout=0) for pid in interpreters))
        self.assertEqual(daemon.children(), [])
        # Every client has finished (the daemon closed each connection after letting go of
        # its bonds): the daemon is back where it was.
        with daemon.connect() as probe:
            self.assertEqual(probe.request("list"), [])
            self.assertEqual(daemon.descriptors(), descriptors)
            self.assertEqual(daemon.threads(), threads)
        self.assertNotIn("[error]", daemon.log())


if __name__ == "__main__":
    unittest.main()
