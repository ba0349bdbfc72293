"""Clients that misbehave (issue 11): one that sends garbage, one that floods requests, one that
never reads its answers, one that opens bonds without end (and one at its request limit that
behaves). Each gets a clear error or is held up
alone, and another client working at the same time is served as usual."""
import os
import tempfile
import unittest

from bondd_harness import Daemon, RpcError, wait_exited

PID = "__import__('os').getpid()"


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Blocker:
    """A FIFO that remote Python code reads from, so that a bond stays busy until the test
    lets it go (opening the FIFO for writing waits for the reader: no race)."""

    def __init__(self):
        self.directory = tempfile.TemporaryDirectory(prefix="bondd-blocker-")
        self.path = os.path.join(self.directory.name, "fifo")
        os.mkfifo(self.path)
        self.code = f"open({self.path!r}).read()"

    def release(self):
        with open(self.path, "w") as fifo:
            fifo.write("go")
        self.directory.cleanup()


class HostileClients(unittest.TestCase):
    def test_garbage_gets_errors_and_the_connection_and_others_go_on(self):
        with Daemon("--max-message-size", "4194304") as daemon, \
                daemon.connect() as hostile, daemon.connect() as honest:
            bond = honest.open()
            garbage = [
                (b"\x00\x01\xff\xfe not json at all\n", -32700),
                (b'{"jsonrpc": "2.0", "id": 1, "method": "eval", "params": {"code": "\xc3\x28"}}\n',
                 -32700),  # invalid UTF-8
                (b"[" * 1_000_000 + b"\n", -32700),  # nested a million deep
                (b'{"jsonrpc": "2.0", "id": 2, "method": 7}\n', -32600),
                (b'{"jsonrpc": "2.0", "id": 3, "method": "eval", "params": {"bond": "b999",'
                 b' "code": "1"}}\n', -32005),
                (b'{"jsonrpc": "2.0", "id": 4, "result": "an answer to nothing"}\n', None),
                (b'"' + b"x" * (5 << 20) + b'"\n', -32600),  # over --max-message-size
                (os.urandom(1 << 20).replace(b"\n", b" ") + b"\n", -32700),
            ]
            for line, code in garbage:
                hostile.send_line(line)
                if code is not None:
                    self.assertEqual(hostile.read()["error"]["code"], code, line[:60])
                # Served in the meantime.
                self.assertEqual(honest.request("eval", bond=bond, code="6 * 7"), 42)
            # The hostile client's connection still works, and so does the daemon.
            self.assertEqual(hostile.request("list"), [])
            self.assertIsNone(daemon.process.poll())

    def test_a_flood_beyond_the_limit_is_refused_and_the_rest_answered(self):
        limit = 10
        with Daemon("--max-client-requests", str(limit)) as daemon, \
                daemon.connect() as flooder, daemon.connect() as honest:
            busy = flooder.open()
            blocker = Blocker()
            flooder.send({"jsonrpc": "2.0", "id": 1000, "method": "eval",
                          "params": {"bond": busy, "code": blocker.code}})
            # Sent at once, not read: the blocked call and limit - 1 more are held, the others
            # refused at once, in order.
            for i in range(1, 31):
                flooder.send({"jsonrpc": "2.0", "id": i, "method": "eval",
                              "params": {"bond": busy, "code": str(i)}})
            for i in range(limit, 31):
                error = flooder.read()
                self.assertEqual(error["id"], i)
                self.assertEqual(error["error"]["code"], -32005)
                self.assertIn("--max-client-requests", error["error"]["message"])
            # Another client is served while the flooder's requests wait.
            other = honest.open()
            self.assertEqual(honest.request("eval", bond=other, code="1 + 1"), 2)
            blocker.release()
            self.assertEqual(flooder.wait_reply(1000)["result"], "go")
            for i in range(1, limit):
                self.assertEqual(flooder.wait_reply(i)["result"], i)
            # Answered, they no longer count.
            self.assertEqual(flooder.request("eval", bond=busy, code="'again'"), "again")

    def test_a_client_at_its_limit_may_ask_again_as_soon_as_it_has_its_answer(self):
        # The answer no longer counts against the limit once the client can have it, even if
        # the daemon has not finished with the request yet.
        with Daemon("--max-client-requests", "1") as daemon, daemon.connect() as client:
            for i in range(60):
                bond = client.open()
                self.assertEqual(client.request("eval", bond=bond, code=str(i)), i)
                client.request("close", bond=bond)

    def test_a_client_that_never_reads_holds_up_only_its_own_bond(self):
        with Daemon("--log-level", "info") as daemon, \
                daemon.connect() as deaf, daemon.connect() as honest:
            loud = deaf.open()
            pid = deaf.request("eval", bond=loud, code=PID)
            bond = honest.open()
            honest.request("eval", bond=bond, code="1")
            before = rss_bytes(daemon.pid)
            # Output without end: the daemon may buffer 16 MiB of it for the client, then the
            # bond's thread waits, and so does the interpreter, its pipe full.
            deaf.send({"jsonrpc": "2.0", "id": 1000, "method": "eval_block",
                       "params": {"bond": loud,
                                  "code": "while True: print('x' * 65536, flush=True)"}})
            for _ in range(100):  # it flows at first: then the client stops reading
                while deaf.read().get("method") != "output":
                    pass
            for i in range(300):
                self.assertEqual(honest.request("eval", bond=bond, code=str(i)), i)
            other = honest.open()
            self.assertEqual(honest.request("eval", bond=other, code="'still'"), "still")
            # An interpreter writes hundreds of MiB a second: without the bound the daemon's
            # memory would have grown far beyond this by now. (Not under AddressSanitizer, whose
            # quarantine keeps what was freed.)
            grown = rss_bytes(daemon.pid) - before
            if "address" not in os.environ.get("BOND_SANITIZED", ""):
                self.assertLess(grown, 48 << 20, f"the daemon grew by {grown >> 20} MiB")
            deaf.close()  # gone: its busy bond is killed
            self.assertTrue(wait_exited(pid))
            self.assertEqual(honest.request("eval", bond=bond, code="'on'"), "on")

    def test_a_client_may_hold_only_so_many_bonds(self):
        with Daemon("--max-client-bonds", "2") as daemon, \
                daemon.connect() as greedy, daemon.connect() as other:
            first = greedy.open()
            greedy.open(name="second")
            with self.assertRaises(RpcError) as refused:
                greedy.open()
            self.assertEqual(refused.exception.code, -32005)
            self.assertIn("--max-client-bonds", refused.exception.message)
            # Attaching counts too, unless the client holds the bond already.
            other.open(name="shared")
            with self.assertRaises(RpcError) as refused:
                greedy.request("attach", name="shared")
            self.assertIn("--max-client-bonds", refused.exception.message)
            self.assertEqual(greedy.request("attach", name="second")["lang"], "Python")
            # The limit is per client, and room comes back with a close.
            self.assertEqual(other.request("attach", name="second")["lang"], "Python")
            greedy.request("close", bond=first)
            self.assertEqual(greedy.request("attach", name="shared")["lang"], "Python")
            self.assertEqual(len(greedy.request("list")), 2)


if __name__ == "__main__":
    unittest.main()
