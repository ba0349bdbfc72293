"""The fast path of a call: once a client keeps calling one bond, the bond's thread reads that
client's next request itself (src/daemon/held_bond.hpp). Whatever arrives then, and however it
arrives (several requests at once, one in pieces, requests for other bonds or methods, errors,
an end of input), is answered exactly as the network thread answers it."""
import json
import os
import tempfile
import threading
import time
import unittest

from bondd_harness import HANG_GUARD, Daemon, DaemonTestCase, RpcError, tcp_client, wait_exited

PID = "__import__('os').getpid()"


def request_line(id, method, **params):
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params}) + "\n"


class FastPath(DaemonTestCase):
    def calls(self, client, bond, count=3):
        """Calls enough for the bond's thread to borrow the client's input."""
        for i in range(count):
            self.assertEqual(client.request("call", bond=bond, name="abs", args=[-i]), i)

    def test_several_requests_in_one_write_are_answered_in_order(self):
        bond = self.client.open()
        self.calls(self.client, bond)
        self.client.send_line("".join(request_line(100 + i, "call", bond=bond, name="abs",
                                                   args=[-i]) for i in range(5)))
        answers = [self.client.read() for _ in range(5)]
        self.assertEqual([(a["id"], a["result"]) for a in answers],
                         [(100 + i, i) for i in range(5)])
        self.calls(self.client, bond)

    def test_a_request_that_arrives_in_pieces(self):
        bond = self.client.open()
        self.calls(self.client, bond)
        line = request_line(7, "eval", bond=bond, code="'whole'").encode()
        for start in range(0, len(line), 9):
            self.client.send_line(line[start:start + 9])
            time.sleep(0.01)  # not for synchronisation: to make the pieces arrive apart
        self.assertEqual(self.client.wait_reply(7)["result"], "whole")
        self.calls(self.client, bond)

    def test_requests_for_other_bonds_and_methods_between_calls(self):
        first, second = self.client.open(), self.client.open("PHP")
        self.calls(self.client, first)
        self.assertEqual(self.client.request("eval", bond=second, code="1 + 1"), 2)
        self.calls(self.client, first)
        self.assertEqual({entry["bond"] for entry in self.client.request("list")},
                         {first, second})
        self.calls(self.client, first)
        self.assertEqual(self.client.request("exports", bond=first), [])
        self.calls(self.client, first)
        self.client.request("eval_block", bond=second, code="$x = 5;")
        self.calls(self.client, second)
        self.assertEqual(self.client.request("eval", bond=second, code="$x"), 5)
        self.assertEqual(self.client.request("eval", bond=first, code="3"), 3)

    def test_errors_after_calls_are_the_network_threads(self):
        bond = self.client.open()
        cases = [
            (b"{not json\n", -32700),
            (b"[]\n", -32600),
            (request_line(1, "call", bond="b999999", name="abs", args=[1]).encode(), -32005),
            (request_line(2, "no_such_method", bond=bond).encode(), -32601),
            (request_line(3, "call", bond=bond, name="abs", args=[1], extra=1).encode(), -32602),
            (request_line(4, "eval", bond=bond, code="1/0").encode(), -32000),
            (request_line(5, "eval", bond=bond).encode(), -32602),
        ]
        for line, code in cases:
            self.calls(self.client, bond)
            self.client.send_line(line)
            answer = self.client.read()
            self.assertEqual(answer["error"]["code"], code, line)
        self.calls(self.client, bond)

    def test_a_notification_after_calls_runs_unanswered(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code="seen = []")
        self.calls(self.client, bond)
        self.client.send({"jsonrpc": "2.0", "method": "eval_block",
                          "params": {"bond": bond, "code": "seen.append(1)"}})
        self.assertEqual(self.client.request("eval", bond=bond, code="seen"), [1])

    def test_output_and_invoke_on_the_fast_path(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code="def shout(x):\n"
                                                           "    print('before', flush=True)\n"
                                                           "    return upper(x) + '!'\n")
        self.client.exports["upper"] = lambda bond_id, text: self.client.request(
            "call", bond=bond_id, name="str.upper", args=[text])
        self.client.request("export", bond=bond, name="upper")
        for _ in range(5):
            self.client.events.clear()
            self.assertEqual(self.client.request("call", bond=bond, name="shout", args=["hi"]),
                             "HI!")
            self.assertEqual(self.client.events[0], ("output", "before\n"))

    def test_two_clients_take_turns_on_a_shared_bond(self):
        bond = self.client.open(name="fast-path-turns")
        with self.daemon.connect() as other:
            other.request("attach", name="fast-path-turns")
            self.client.request("eval_block", bond=bond, code="turns = []")
            for turn in range(10):
                for who, client in (("a", self.client), ("b", other)):
                    self.calls(client, bond, 2)
                    client.request("eval_block", bond=bond, code=f"turns.append({who!r})")
            self.assertEqual(self.client.request("eval", bond=bond, code="''.join(turns)"),
                             "ab" * 10)

    def test_close_after_calls(self):
        bond = self.client.open()
        pid = self.client.request("eval", bond=bond, code=PID)
        self.calls(self.client, bond)
        self.assertIsNone(self.client.request("close", bond=bond))
        self.assertTrue(wait_exited(pid))
        with self.assertRaises(RpcError) as raised:
            self.client.request("call", bond=bond, name="abs", args=[1])
        self.assertEqual(raised.exception.code, -32005)

    def test_another_holder_interrupts_a_call_of_the_fast_path(self):
        bond = self.client.open(name="fast-path-interrupt")
        with self.daemon.connect() as other:
            other.request("attach", name="fast-path-interrupt")
            self.calls(self.client, bond)
            self.client.send({"jsonrpc": "2.0", "id": "long", "method": "eval_block",
                              "params": {"bond": bond, "code": "print('running', flush=True)\n"
                                                               "__import__('time').sleep(600)"}})
            self.assertEqual(self.client.read()["params"]["data"], "running\n")
            other.request("interrupt", bond=bond)
            error = self.client.wait_reply("long")["error"]
            self.assertEqual((error["code"], error["data"]["type"]), (-32002, "Interrupted"))
            self.calls(self.client, bond)


class FastPathEnds(unittest.TestCase):
    def test_a_disconnect_after_calls_closes_the_clients_bond(self):
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            pid = client.request("eval", bond=bond, code=PID)
            for i in range(3):
                client.request("call", bond=bond, name="abs", args=[i])
            client.close()
            self.assertTrue(wait_exited(pid), "the interpreter outlived its client")

    def test_a_request_then_the_end_of_input_is_still_answered(self):
        with Daemon() as daemon, daemon.connect() as client:
            bond = client.open()
            for i in range(3):
                client.request("call", bond=bond, name="abs", args=[i])
            client.send_line(request_line(50, "eval", bond=bond, code="'last'"))
            rest = client.finish()
            self.assertEqual([(m["id"], m["result"]) for m in rest], [(50, "last")])

    def test_the_fast_path_over_tcp_after_auth(self):
        with Daemon("--listen", "127.0.0.1:0", "--token-file", self.token_file()) as daemon:
            client = tcp_client(daemon)
            client.request("auth", token="fast-path-token")
            bond = client.open()
            for i in range(20):
                self.assertEqual(client.request("call", bond=bond, name="abs", args=[-i]), i)
            client.close()

    def test_shutdown_while_a_bond_waits_for_its_clients_next_request(self):
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            pid = client.request("eval", bond=bond, code=PID)
            for i in range(3):
                client.request("call", bond=bond, name="abs", args=[i])
            self.assertEqual(daemon.terminate(), 0)
            self.assertTrue(wait_exited(pid))
            client.close()

    def test_many_clients_each_calling_its_own_bond(self):
        with Daemon() as daemon:
            errors = []

            def work(index):
                try:
                    with daemon.connect() as client:
                        bond = client.open()
                        for i in range(300):
                            value = [index, i]
                            if client.request("call", bond=bond, name="list",
                                              args=[value]) != value:
                                raise AssertionError(f"wrong answer for {value}")
                        client.finish()
                except Exception as error:
                    errors.append(f"client {index}: {error!r}")
            workers = [threading.Thread(target=work, args=(i,)) for i in range(8)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(HANG_GUARD)
            self.assertEqual(errors, [])
            self.assertEqual(daemon.children(), [])

    def token_file(self):
        directory = tempfile.mkdtemp(prefix="bondd-token-")
        self.addCleanup(lambda: (os.remove(path), os.rmdir(directory)))
        path = os.path.join(directory, "token")
        with open(path, "w") as token:
            token.write("fast-path-token")
        os.chmod(path, 0o600)
        return path


if __name__ == "__main__":
    unittest.main()
