"""Every error code of bondd, and that a malformed message leaves the connection usable."""
import unittest

from bondd_harness import TABLE, DaemonTestCase


class Errors(DaemonTestCase):
    DAEMON_ARGS = ("--max-message-size", "4096")

    def assert_usable(self):
        self.assertEqual(len(self.client.request("drivers")), 4)

    def raw_error(self, line):
        self.client.send_line(line)
        reply = self.client.read()
        self.assertNotIn("result", reply)
        return reply

    def test_parse_error_32700(self):
        reply = self.raw_error("{not json\n")
        self.assertEqual(reply["error"]["code"], -32700)
        self.assertIsNone(reply["id"])
        self.assert_usable()

    def test_invalid_request_32600(self):
        for line, id in [('[1, 2]\n', None),                                  # a batch
                         ('"just a string"\n', None),
                         ('{"id": 5, "method": "drivers"}\n', 5),            # no "jsonrpc"
                         ('{"jsonrpc": "2.0", "id": 6, "method": 7}\n', 6),  # method not a string
                         ('{"jsonrpc": "2.0", "id": 7}\n', 7),               # neither kind
                         ('{"jsonrpc": "2.0", "id": {}, "method": "drivers"}\n', None)]:
            with self.subTest(line=line):
                reply = self.raw_error(line)
                self.assertEqual(reply["error"]["code"], -32600)
                self.assertEqual(reply["id"], id)
        self.assert_usable()

    def test_a_line_over_the_limit_is_refused_and_the_next_one_served(self):
        reply = self.raw_error('{"jsonrpc": "2.0", "id": 1, "method": "drivers", "params": {"x": "'
                               + "x" * 10000 + '"}}\n')
        self.assertEqual(reply["error"]["code"], -32600)
        self.assertIn("--max-message-size", reply["error"]["message"])
        self.assert_usable()

    def test_method_not_found_32601(self):
        error = self.error_of("no_such_method")
        self.assertEqual(error.code, -32601)
        self.assertIn("no_such_method", error.message)
        self.assert_usable()

    def test_invalid_params_32602(self):
        bond = self.client.open()
        for method, params, mentions in [
                ("eval", {"bond": bond}, "code"),                          # missing
                ("eval", {"bond": bond, "code": 5}, "code"),               # mistyped
                ("eval", {"bond": bond, "code": "1", "extra": 1}, "extra"),  # unknown
                ("call", {"bond": bond, "name": "f", "args": {}}, "args"),
                ("open", {"lang": "Python", "timeout_ms": -1}, "timeout_ms"),
                ("open", {"lang": "Python", "env": {"A": 1}}, "env"),
                ("open", {"lang": "Python", "args": ["-q", 3]}, "args"),
                ("list", {"all": True}, "all")]:
            with self.subTest(method=method, params=params):
                error = self.error_of(method, **params)
                self.assertEqual(error.code, -32602)
                self.assertIn(mentions, error.message)
        reply = self.client.request_message("drivers", [1, 2])  # positional params
        self.assertEqual(reply["error"]["code"], -32602)
        self.assert_usable()

    def test_remote_exception_32000(self):
        bond = self.client.open()
        error = self.error_of("eval", bond=bond, code="1 / 0")
        self.assertEqual(error.code, -32000)
        self.assertEqual(error.message, "ZeroDivisionError: division by zero")
        self.assertEqual(error.data, {"type": "RemoteException", "lang": "Python",
                                      "data": "ZeroDivisionError: division by zero",
                                      "stack": [{"file": "<string>", "line": 1,
                                                 "function": "<module>"}]})
        self.assertEqual(self.client.request("eval", bond=bond, code="1"), 1)  # the bond goes on

    def test_an_error_of_a_file_names_it_in_its_stack(self):
        for entry in TABLE:
            with self.subTest(lang=entry["name"]):
                bond = self.client.open(entry["name"])
                error = self.error_of("eval_block", bond=bond, code=entry["die_file"],
                                      file="die.x")
                self.assertEqual(error.code, -32000)
                stack = error.data["stack"]
                self.assertEqual(stack[0], {"file": "die.x", "line": 2,
                                            "function": entry["die_file_function"]})
                self.assertEqual([(frame["file"], frame["line"]) for frame in stack[1:]],
                                 [("die.x", 4)])
                refused = self.error_of("eval", bond=bond, code="1", file="x")  # eval_block's only
                self.assertEqual((refused.code, "'file'" in refused.message), (-32602, True))

    def test_serialization_exception_32001(self):
        bond = self.client.open()
        error = self.error_of("eval", bond=bond, code="float('nan')")
        self.assertEqual(error.code, -32001)
        self.assertEqual(error.data["type"], "SerializationException")
        self.assertEqual(error.data["side"], "remote")
        self.assertEqual(error.data["lang"], "Python")
        self.assertEqual(self.client.request("eval", bond=bond, code="1"), 1)

    def test_terminated_exception_32003(self):
        bond = self.client.open()
        error = self.error_of("eval", bond=bond, code="__import__('os')._exit(3)")
        self.assertEqual(error.code, -32003)
        self.assertEqual(error.data["type"], "TerminatedException")
        self.assertIn("status 3", error.message)
        self.assertEqual(self.error_of("eval", bond=bond, code="1").code, -32003)
        self.assertEqual([e["state"] for e in self.client.request("list") if e["bond"] == bond],
                         ["ended"])

    def test_timeout_exception_32004(self):
        bond = self.client.open(timeout_ms=300)
        error = self.error_of("eval", bond=bond, code="__import__('time').sleep(30)")
        self.assertEqual(error.code, -32004)
        self.assertEqual(error.data["type"], "TimeoutException")

    def test_bond_exception_32005(self):
        bond = self.client.open()
        cases = [("eval", {"bond": "b999999", "code": "1"}, "unknown bond"),
                 ("open", {"lang": "Cobol"}, "unknown language"),
                 ("open", {"lang": "Python", "command": "no-such-interpreter-here"}, "not in PATH"),
                 ("attach", {"name": "nobody-has-this-name"}, "no bond is named"),
                 ("export", {"bond": bond, "name": "not a name"}, ""),
                 ("auth", {"token": "x"}, "only used over TCP")]
        for method, params, mentions in cases:
            with self.subTest(method=method, params=params):
                error = self.error_of(method, **params)
                self.assertEqual(error.code, -32005)
                self.assertEqual(error.data["type"], "BondException")
                self.assertIn(mentions, error.message)
        self.client.open(name="errors-taken")
        error = self.error_of("open", lang="Python", name="errors-taken")
        self.assertEqual(error.code, -32005)
        self.assertIn("exists already", error.message)
        self.assert_usable()

    def test_an_answer_to_no_invoke_is_ignored(self):
        self.client.send({"jsonrpc": "2.0", "id": 12345, "result": "nobody asked"})
        self.client.send({"jsonrpc": "2.0", "id": "str", "error": {"code": 1, "message": "m"}})
        self.assert_usable()
        self.daemon.wait_for_log(r"an answer to no invoke of the daemon \(id 12345\)")

    def test_bonds_of_other_clients_are_unknown_unless_attached(self):
        with self.daemon.connect() as other:
            theirs = other.open()
            error = self.error_of("eval", bond=theirs, code="1")
            self.assertEqual(error.code, -32005)
            error = self.error_of("close", bond=theirs)
            self.assertEqual(error.code, -32005)
            self.assertEqual(other.request("eval", bond=theirs, code="1"), 1)


if __name__ == "__main__":
    unittest.main()
