"""Calls that nest through the daemon: a client answers `invoke` by calling the same bond again,
to any depth, and output reaches the client in order, before the answer it belongs to."""
import unittest

from bondd_harness import DaemonTestCase, RpcError


class Nesting(DaemonTestCase):
    def recursion(self, lang, level_definition, depth):
        bond = self.client.open(lang)
        self.client.request("eval_block", bond=bond, code=level_definition)

        def down(bond_id, n):  # runs while the remote waits in level(n)
            if n == 0:
                return 0
            return self.client.request("call", bond=bond_id, name="level", args=[n - 1]) + 1
        self.client.exports["down"] = down
        self.client.request("export", bond=bond, name="down")
        self.assertEqual(self.client.request("call", bond=bond, name="level", args=[depth]), depth)
        self.assertEqual(self.client.invokes, depth + 1)

    def test_invoke_recursion_50_levels_deep(self):
        self.recursion("Python", "def level(n):\n    return down(n)\n", 50)

    def test_invoke_recursion_in_php_and_javascript(self):
        self.recursion("PHP", "function level($n) { return down($n); }", 50)
        self.client.invokes = 0
        self.recursion("JavaScript", "function level(n) { return down(n); }", 50)

    def test_an_error_deep_down_unwinds_through_every_level(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code=(
            "def level(n):\n"
            "    if n == 0:\n"
            "        raise LookupError('at the bottom')\n"
            "    return down(n)\n"))

        def down(bond_id, n):
            return self.client.request("call", bond=bond_id, name="level", args=[n - 1])
        self.client.exports["down"] = down
        self.client.request("export", bond=bond, name="down")
        with self.assertRaises(RpcError) as raised:
            self.client.request("call", bond=bond, name="level", args=[10])
        self.assertEqual(raised.exception.code, -32000)
        self.assertIn("at the bottom", raised.exception.message)
        self.assertEqual(self.client.request("eval", bond=bond, code="1"), 1)

    def test_other_clients_wait_for_a_shared_bond_in_a_nested_call(self):
        bond = self.client.open(name="nesting-shared")
        with self.daemon.connect() as other:
            other.request("attach", name="nesting-shared")
            seen = []

            def hold(bond_id):
                # While this client's call waits on us, the other client's request on the same
                # bond is queued, not run inside our call; ours nested here does run.
                other.send({"jsonrpc": "2.0", "id": "theirs", "method": "eval",
                            "params": {"bond": bond_id, "code": "order.append('theirs')"}})
                seen.append(self.client.request("eval", bond=bond_id,
                                                code="order.append('nested') or len(order)"))
                return "held"
            self.client.exports["hold"] = hold
            self.client.request("export", bond=bond, name="hold")
            self.client.request("eval_block", bond=bond, code="order = []")
            self.assertEqual(self.client.request("eval", bond=bond, code="hold()"), "held")
            self.assertEqual(other.wait_reply("theirs")["result"], None)
            self.assertEqual(seen, [1])
            self.assertEqual(self.client.request("eval", bond=bond, code="order"),
                             ["nested", "theirs"])
        self.client.request("close", bond=bond)

    def test_proxied_calls_that_would_wait_for_each_other_fail_instead(self):
        """Bond a, busy for one client, calls into b through a proxy while b, busy for another
        client, calls into a: one of the two calls fails with an error saying so, whichever
        comes second; the other completes."""
        with self.daemon.connect() as other:
            a = self.client.open(name="nesting-a")
            b = self.client.open(name="nesting-b")
            other.request("attach", name="nesting-a")
            other.request("attach", name="nesting-b")
            self.client.request("eval_block", bond=a, code="def in_a():\n    return 'a'\n")
            self.client.request("eval_block", bond=b, code="def in_b():\n    return 'b'\n")
            self.client.request("proxy", bond=a, name="in_a", to=b)
            self.client.request("proxy", bond=b, name="in_b", to=a)
            other.exports["gate"] = lambda bond_id: True
            other.request("export", bond=b, name="gate")
            # b is busy for `other`, waiting for its answer to gate() before calling into a.
            other.send({"jsonrpc": "2.0", "id": "b", "method": "eval",
                        "params": {"bond": b, "code": "gate() and in_a()"}})
            invoke = other.read()
            self.assertEqual(invoke["method"], "invoke")
            # a, busy for this client, calls into b; then b goes on and calls into a.
            self.client.send({"jsonrpc": "2.0", "id": "a", "method": "eval",
                              "params": {"bond": a, "code": "in_b()"}})
            other.answer_invoke(invoke)
            replies = [self.client.wait_reply("a"), other.wait_reply("b")]
            failed = [reply for reply in replies if "error" in reply]
            self.assertEqual(len(failed), 1, replies)
            self.assertEqual(failed[0]["error"]["code"], -32000)
            self.assertIn("deadlock", failed[0]["error"]["message"])
            succeeded = [reply["result"] for reply in replies if "result" in reply]
            self.assertIn(succeeded, [["b"], ["a"]])
            self.client.request("close", bond=a)
            self.client.request("close", bond=b)

    def test_output_comes_before_the_answer_in_the_order_written(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code=(
            "import sys, os\n"
            "for i in range(200):\n"
            "    print('line', i)\n"
            "sys.stdout.flush()\n"
            "os.system('echo from a child process')\n"
            "print('last')\n"))
        data = [event[1] for event in self.client.events if event[0] == "output"]
        self.assertEqual(self.client.events[-1][0], "reply")
        text = "".join(data)
        expected = "".join(f"line {i}\n" for i in range(200)) + "from a child process\nlast\n"
        self.assertEqual(text, expected)
        self.assertTrue(all(o[0] == bond and o[1] == "stdout" for o in self.client.outputs))

    def test_stderr_and_output_of_nested_calls_reach_the_caller(self):
        bond = self.client.open()
        self.client.exports["inner"] = lambda bond_id: self.client.request(
            "eval", bond=bond_id, code="print('inside') or 'done'")
        self.client.request("export", bond=bond, name="inner")
        self.client.request("eval_block", bond=bond, code=(
            "import sys\n"
            "print('before')\n"
            "result = inner()\n"
            "print('error text', file=sys.stderr)\n"
            "print('after', result)\n"))
        self.assertEqual([(o[1], o[2]) for o in self.client.outputs],
                         [("stdout", "before\n"), ("stdout", "inside\n"),
                          ("stderr", "error text\n"), ("stdout", "after done\n")])

    def test_output_that_is_not_utf8_arrives_as_bytes(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond,
                            code="import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\n')\n"
                                 "sys.stdout.flush()")
        self.assertEqual(self.client.outputs[-1][2], {"$bytes": "//4K"})


if __name__ == "__main__":
    unittest.main()
