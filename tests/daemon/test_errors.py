"""Every error code of bondd, and that a malformed message leaves the connection usable."""
import json
import unittest

from bondd_harness import REGISTERED, TABLE, DaemonTestCase


class Errors(DaemonTestCase):
    DAEMON_ARGS = ("--max-message-size", "4096")

    def assert_usable(self):
        self.assertEqual(len(self.client.request("drivers")), len(REGISTERED))

    def raw_error(self, line):
        self.client.send_line(line)
        reply = self.client.read()
        self.assertNotIn("result", reply)
        return reply

    def test_parse_error_32700(self):
        reply = self.raw_error("{not json\n")
        self.assertEqual(reply["error"]["code"], -32700)
        self.assertEqual(reply["error"]["data"], {"type": "ParseError"})
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
                self.assertEqual(reply["error"]["data"], {"type": "InvalidRequest"})
                self.assertEqual(reply["id"], id)
        self.assert_usable()

    def test_a_line_over_the_limit_is_refused_and_the_next_one_served(self):
        reply = self.raw_error('{"jsonrpc": "2.0", "id": 1, "method": "drivers", "params": {"x": "'
                               + "x" * 10000 + '"}}\n')
        self.assertEqual(reply["error"]["code"], -32600)
        self.assertIsNone(reply["id"])
        self.assertEqual(reply["error"]["message"],
                         "the message is longer than 4096 bytes, the most the daemon accepts "
                         "(set by --max-message-size); it was dropped")
        self.assert_usable()

    def test_method_not_found_32601(self):
        error = self.error_of("no_such_method")
        self.assertEqual(error.code, -32601)
        self.assertEqual(error.data, {"type": "MethodNotFound"})
        self.assertIn("no_such_method", error.message)
        self.assert_usable()

    def test_invalid_params_32602(self):
        """Each kind of invalid params, each with data.type "InvalidParams"."""
        bond = self.client.open()
        for method, params, mentions in [
                ("eval", {"bond": bond}, "'code' is missing"),
                ("eval", {"bond": bond, "code": 5}, "'code' must be a string"),
                ("eval", {"bond": bond, "code": "1", "extra": 1}, "'extra' is unknown"),
                ("call", {"bond": bond, "name": "f", "args": {}}, "'args' must be an array"),
                ("open", {"lang": "Python", "timeout_ms": -1}, "'timeout_ms' must be an integer"),
                ("open", {"lang": "Python", "timeout_ms": 0}, "'timeout_ms' must be > 0"),
                ("open", {"lang": "Python", "env": {"A": 1}}, "'env' must map names to strings"),
                ("open", {"lang": "Python", "args": ["-q", 3]}, "'args' must hold strings"),
                ("open", {"lang": "Python", "name": ""}, "'name' must not be empty"),
                ("open", {"lang": "Python", "sandbox": 3}, "'sandbox' must be"),
                ("open", {"lang": "Python", "sandbox": {"read_only": [1]}}, "'read_only'"),
                ("open", {"lang": "Python", "container": "docker"}, "'container' must be"),
                ("open", {"lang": "Python", "container": {"tool": "docker"}}, "'docker'"),
                ("open", {"lang": "Python", "container": {"tool": "lxc", "id_map": 3}}, "'id_map'"),
                ("open", {"lang": "Python", "container": {"tool": "lxc", "uid": 1 << 40}}, "'uid'"),
                ("eval", {"bond": bond, "code": "1", "limits": {"cpu_ms": 0}}, "'cpu_ms'"),
                ("eval", {"bond": bond, "code": "1", "limits": {"walls": 1}}, "'walls'"),
                ("object_get", {"name": "x"}, "'object' is missing"),
                ("release", {}, "'objects' is missing"),
                ("list", {"all": True}, "this method takes none")]:
            with self.subTest(method=method, params=params):
                error = self.error_of(method, **params)
                self.assertEqual(error.code, -32602)
                self.assertEqual(error.data, {"type": "InvalidParams"})
                self.assertIn(mentions, error.message)
        reply = self.client.request_message("drivers", [1, 2])  # positional params
        self.assertEqual(reply["error"]["code"], -32602)
        self.assertEqual(reply["error"]["data"], {"type": "InvalidParams"})
        self.assertEqual(reply["error"]["message"],
                         "the parameters must be named: send an object, not an array")
        self.assert_usable()

    def test_the_daemons_request_ids_are_never_the_clients(self):
        """The client numbers its requests from 1, as the daemon numbers its invokes: an invoke
        has a string id all the same, and the error answer to a malformed answer to it carries
        that id, which the client tells from its own request's."""
        bond = self.client.request_message("open", {"lang": "Python"}, id="o")["result"]["bond"]
        self.client.request_message("export", {"bond": bond, "name": "shout"}, id="e")
        self.client.send({"jsonrpc": "2.0", "id": 1, "method": "eval",
                          "params": {"bond": bond, "code": "shout('hi') + '!'"}})
        invoke = self.client.read()
        self.assertEqual(invoke["method"], "invoke")
        self.assertEqual(invoke["id"], "bondd:1")
        self.client.send({"jsonrpc": "2.0", "id": invoke["id"]})  # neither result nor error
        refused = self.client.read()
        self.assertEqual(refused["id"], "bondd:1")
        self.assertEqual((refused["error"]["code"], refused["error"]["data"]),
                         (-32600, {"type": "InvalidRequest"}))
        self.assertIn("the answer to the daemon's request \"bondd:1\" is not valid",
                      refused["error"]["message"])
        # The invoke still waits for its answer, and the client's request 1 is answered once.
        self.client.send({"jsonrpc": "2.0", "id": invoke["id"], "result": "HI"})
        self.assertEqual(self.client.wait_reply(1), {"jsonrpc": "2.0", "id": 1, "result": "HI!"})

    def test_a_request_with_an_id_of_the_daemons_is_refused_unrun(self):
        bond = self.client.open()
        for params in [{"bond": bond, "code": "ran = 1"}, [bond, "ran = 1"]]:
            with self.subTest(params=params):
                reply = self.raw_error(json.dumps({"jsonrpc": "2.0", "id": "bondd:1",
                                                   "method": "eval_block", "params": params})
                                       + "\n")
                self.assertIsNone(reply["id"])
                self.assertEqual(reply["error"]["code"],
                                 -32600 if isinstance(params, dict) else -32602)
        self.assertEqual(self.error_of("eval", bond=bond, code="ran").code, -32000)  # NameError

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
        self.assertEqual(error.data, {"type": "TerminatedException", "lang": "Python",
                                      "exit_status": 3})
        self.assertEqual(error.message, "the interpreter exited with status 3 during a call")
        later = self.error_of("eval", bond=bond, code="1")  # its end was not seen: no status
        self.assertEqual((later.code, later.data), (-32003, {"type": "TerminatedException",
                                                              "lang": "Python"}))
        self.assertEqual([e["state"] for e in self.client.request("list") if e["bond"] == bond],
                         ["ended"])

    def test_a_killed_interpreter_is_said_so_in_a_sentence_without_a_status(self):
        bond = self.client.open()
        error = self.error_of("eval", bond=bond,
                              code="__import__('os').kill(__import__('os').getpid(), 9)")
        self.assertEqual((error.code, error.data), (-32003, {"type": "TerminatedException",
                                                              "lang": "Python"}))
        self.assertEqual(error.message,
                         "the interpreter was killed by signal 9 (SIGKILL) during a call")

    def test_timeout_exception_32004(self):
        bond = self.client.open(timeout_ms=300)
        error = self.error_of("eval", bond=bond, code="__import__('time').sleep(30)")
        self.assertEqual(error.code, -32004)
        self.assertEqual(error.data["type"], "TimeoutException")

    def test_bond_exception_32005(self):
        bond = self.client.open()
        cases = [("eval", {"bond": "b999999", "code": "1"}, "'b999999' is unknown"),
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
