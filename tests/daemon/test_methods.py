"""bondd's methods, each over a real socket to a real daemon and real interpreters."""
import os
import unittest

from bondd_harness import BY_NAME, REGISTERED, TABLE, DaemonTestCase, RpcError, process_alive


class Methods(DaemonTestCase):
    def test_drivers_lists_the_languages(self):
        self.assertEqual(self.client.request("drivers"), REGISTERED)

    def test_every_language_opens_evaluates_and_calls(self):
        for entry in TABLE:
            lang = entry["name"]
            with self.subTest(lang=lang):
                opened = self.client.request("open", lang=lang.lower())
                self.assertEqual(opened["lang"], lang)
                bond = opened["bond"]
                self.assertEqual(self.client.request("eval", bond=bond, code="6 * 7"), 42)
                self.assertIsNone(
                    self.client.request("eval_block", bond=bond, code=entry["define_add"]))
                self.assertEqual(self.client.request("call", bond=bond, name="add", args=[40, 2]),
                                 42)
                self.assertIsNone(self.client.request("close", bond=bond))

    def test_values_and_bytes_cross_both_ways(self):
        bond = self.client.open()
        value = {"list": [1, 2.5, "three", None, True], "nested": {"k": ["v"]}, "big": 2**62}
        self.assertEqual(self.client.request("call", bond=bond, name="lambda x: x", args=[value]),
                         value)
        self.assertEqual(
            self.client.request("call", bond=bond, name="lambda b: b + b'!'",
                                args=[{"$bytes": "AAH/"}]),
            {"$bytes": "AAH/IQ=="})
        self.assertEqual(self.client.request("eval", bond=bond, code="'snow\\u2603\\x00'"),
                         "snow\u2603\x00")

    def test_call_arguments_may_be_references_evaluated_remotely(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code="items = [1, 2, 3]")
        self.assertEqual(
            self.client.request("call", bond=bond, name="lambda xs, n: len(xs) + n",
                                args=[{"$ref": "items"}, 10]),
            13)
        # {"$code": ...} is the same, as on the driver's wire.
        self.assertEqual(
            self.client.request("call", bond=bond, name="lambda xs, n: len(xs) + n",
                                args=[{"$code": "items"}, 20]),
            23)
        # Only an object with the single key "$ref" is a reference.
        self.assertEqual(
            self.client.request("call", bond=bond, name="lambda d: sorted(d)",
                                args=[{"$ref": "items", "other": 1}]),
            ["$ref", "other"])
        # Nested in a value, a map of a tag's shape is refused: data never runs as code.
        error = self.error_of("call", bond=bond, name="lambda d: d",
                              args=[{"nested": {"$code": "items"}}])
        self.assertEqual(error.data["type"], "SerializationException")
        self.assertEqual(error.data["side"], "local")
        self.assertEqual(self.client.request("call", bond=bond, name="lambda: 7"), 7)

    def test_export_sends_invoke_and_relays_the_answer(self):
        bond = self.client.open()
        self.client.exports["twice"] = lambda bond_id, x: 2 * x
        self.assertIsNone(self.client.request("export", bond=bond, name="twice"))
        self.assertEqual(self.client.request("eval", bond=bond, code="twice(21)"), 42)
        self.assertEqual(self.client.invokes, 1)

    def test_an_error_answer_to_invoke_is_an_exception_of_the_remote_code(self):
        bond = self.client.open()

        def fail(bond_id, text):
            raise ValueError(text)
        self.client.exports["fail"] = fail
        self.client.request("export", bond=bond, name="fail")
        self.client.request("eval_block", bond=bond, code=(
            "def guarded():\n"
            "    try:\n"
            "        fail('no luck')\n"
            "    except Exception as error:\n"
            "        return 'caught: ' + str(error)\n"))
        self.assertEqual(self.client.request("eval", bond=bond, code="guarded()"),
                         "caught: ValueError: no luck")

    def test_proxy_makes_one_bonds_function_callable_in_another(self):
        php = self.client.open("PHP")
        python = self.client.open("Python")
        self.client.request("eval_block", bond=php,
                            code="function greet($name) { return \"hello, $name\"; }")
        self.assertIsNone(self.client.request("proxy", bond=php, name="greet", to=python,
                                              remote="php_greet"))
        self.assertEqual(self.client.request("eval", bond=python, code="php_greet('py')"),
                         "hello, py")
        # Without `remote`, the name stays; and the source's errors reach the target's code.
        self.client.request("eval_block", bond=php,
                            code="function boom() { throw new Exception('php says no'); }")
        self.client.request("proxy", bond=php, name="boom", to=python)
        self.client.request("eval_block", bond=python, code=(
            "def try_boom():\n"
            "    try:\n"
            "        boom()\n"
            "    except Exception as error:\n"
            "        return str(error)\n"))
        self.assertIn("php says no", self.client.request("eval", bond=python, code="try_boom()"))
        # Once the source is closed, calling the proxy is an error of the target's code.
        self.client.request("close", bond=php)
        with self.assertRaises(RpcError) as raised:
            self.client.request("eval", bond=python, code="php_greet('x')")
        self.assertEqual(raised.exception.code, -32000)
        self.assertIn("closed", raised.exception.message)

    def test_proxies_recurse_through_both_bonds(self):
        a = self.client.open()
        b = self.client.open()
        self.client.request("eval_block", bond=a, code=(
            "def ping(n):\n"
            "    return 0 if n == 0 else 1 + pong(n - 1)\n"))
        self.client.request("eval_block", bond=b, code=(
            "def pong(n):\n"
            "    return 0 if n == 0 else 1 + ping(n - 1)\n"))
        self.client.request("proxy", bond=a, name="ping", to=b)
        self.client.request("proxy", bond=b, name="pong", to=a)
        self.assertEqual(self.client.request("eval", bond=a, code="ping(20)"), 20)

    def test_close_ends_the_interpreter_and_forgets_the_bond(self):
        bond = self.client.open()
        pid = self.client.request("eval", bond=bond, code=BY_NAME["Python"]["pid"])
        self.assertTrue(process_alive(pid))
        self.assertIsNone(self.client.request("close", bond=bond))
        self.assertFalse(process_alive(pid))  # gone by the time close answers
        with self.assertRaises(RpcError) as raised:
            self.client.request("eval", bond=bond, code="1")
        self.assertEqual(raised.exception.code, -32005)

    def test_list_shows_own_bonds_and_named_ones(self):
        mine = self.client.open()
        named = self.client.open(name="methods-shared")
        with self.daemon.connect() as other:
            others = other.open()
            listed = {entry["bond"]: entry for entry in other.request("list")}
            self.assertIn(others, listed)
            self.assertIn(named, listed)  # named: others may attach
            self.assertNotIn(mine, listed)
            self.assertFalse(listed[named]["held"])
            self.assertEqual(listed[named]["name"], "methods-shared")
            self.assertTrue(listed[others]["held"])
        listed = {entry["bond"]: entry for entry in self.client.request("list")}
        entry = listed[mine]
        self.assertEqual(entry["lang"], "Python")
        self.assertEqual(entry["state"], "idle")
        self.assertEqual(entry["clients"], 1)
        self.assertGreaterEqual(entry["age"], 0)
        self.assertEqual(entry["pid"], self.client.request("eval", bond=mine,
                                                           code=BY_NAME["Python"]["pid"]))
        self.client.request("close", bond=named)

    def test_list_shows_a_busy_bond_as_busy(self):
        bond = self.client.open()
        self.client.exports["report"] = lambda bond_id: [
            entry["state"] for entry in self.client.request("list") if entry["bond"] == bond_id]
        self.client.request("export", bond=bond, name="report")
        self.assertEqual(self.client.request("eval", bond=bond, code="report()"), ["busy"])

    def test_open_options_shape_the_interpreter(self):
        directory = self.daemon.directory.name
        bond = self.client.open(
            "python", command="python3", args=["-X", "utf8"], cwd=directory,
            env={"PATH": os.environ["PATH"], "BOND_TEST": "yes"}, def_args=True,
            trans_except=True, timeout_ms=60000, start_timeout_ms=60000)
        self.assertEqual(self.client.request("eval", bond=bond, code="__import__('os').getcwd()"),
                         os.path.realpath(directory))
        self.assertEqual(
            self.client.request("eval", bond=bond, code="__import__('os').environ['BOND_TEST']"),
            "yes")
        self.assertEqual(self.client.request("eval", bond=bond, code="__import__('sys').flags.utf8_mode"), 1)
        with self.assertRaises(RpcError) as raised:  # trans_except: the exception's object
            self.client.request("eval", bond=bond, code="int('x')")
        self.assertEqual(raised.exception.data["data"]["type"], "ValueError")

    def test_ids_may_be_strings_and_notifications_get_no_answer(self):
        bond = self.client.open()
        reply = self.client.request_message("eval", {"bond": bond, "code": "1 + 1"}, id="my-id")
        self.assertEqual(reply, {"jsonrpc": "2.0", "id": "my-id", "result": 2})
        # A notification is carried out, unanswered; the next request's answer comes next.
        self.client.send({"jsonrpc": "2.0", "method": "eval_block",
                          "params": {"bond": bond, "code": "noted = 5"}})
        self.assertEqual(self.client.request("eval", bond=bond, code="noted"), 5)

    def test_a_closed_bond_is_no_longer_held_and_others_stay(self):
        first = self.client.open()
        second = self.client.open()
        self.client.request("close", bond=first)
        self.assertEqual(self.client.request("eval", bond=second, code="2"), 2)
        self.assertEqual([entry["bond"] for entry in self.client.request("list")], [second])

    def test_bond_ids_are_the_daemons_not_the_clients(self):
        """Bond ids are counted across all clients: no two bonds the daemon ever opened share
        one, whichever clients opened them, and a closed bond's id is not given again."""
        with self.daemon.connect() as other:
            ids = [self.client.open(), other.open(), self.client.open(), other.open()]
            self.client.request("close", bond=ids[0])
            ids.append(other.open())
        self.assertEqual(len(set(ids)), len(ids))
        numbers = [int(bond.removeprefix("b")) for bond in ids]
        self.assertEqual(numbers, sorted(numbers))


class Exports(DaemonTestCase):
    """`exports`: the names a bond's code can call that reach outside it."""

    def test_exported_and_proxied_names_sorted(self):
        python = self.client.open("Python")
        php = self.client.open("PHP")
        self.assertEqual(self.client.request("exports", bond=python), [])
        self.client.request("export", bond=python, name="zeta")
        self.client.request("export", bond=python, name="alpha")
        self.client.request("eval_block", bond=php,
                            code="function greet($name) { return \"hello, $name\"; }")
        self.client.request("proxy", bond=php, name="greet", to=python, remote="php_greet")
        self.client.request("proxy", bond=php, name="greet", to=python)
        # Exporting a name again replaces it: it is listed once.
        self.client.request("export", bond=python, name="alpha")
        self.assertEqual(self.client.request("exports", bond=python),
                         ["alpha", "greet", "php_greet", "zeta"])
        # A proxy adds to its target only; into PHP too.
        self.assertEqual(self.client.request("exports", bond=php), [])
        self.client.request("proxy", bond=python, name="len", to=php, remote="py_len")
        self.assertEqual(self.client.request("exports", bond=php), ["py_len"])
        self.assertEqual(self.client.request("eval", bond=php, code="py_len('four')"), 4)

    def test_an_export_that_failed_is_not_listed(self):
        bond = self.client.open()
        self.client.request("export", bond=bond, name="fine")
        self.assertEqual(self.error_of("export", bond=bond, name="not a name").code, -32005)
        self.assertEqual(self.client.request("exports", bond=bond), ["fine"])

    def test_every_holder_sees_every_clients_exports(self):
        bond = self.client.open(name="exports-shared")
        other = self.daemon.connect()
        other.request("attach", name="exports-shared")
        other.exports["from_other"] = lambda bond_id: "other's"
        other.request("export", bond=bond, name="from_other")
        self.client.request("export", bond=bond, name="from_first")
        self.assertEqual(self.client.request("exports", bond=bond), ["from_first", "from_other"])
        self.assertEqual(other.request("exports", bond=bond), ["from_first", "from_other"])
        # The name stays defined in the remote code after its client has gone: calling it then
        # raises there.
        other.finish()
        self.assertEqual(self.client.request("exports", bond=bond), ["from_first", "from_other"])
        error = self.error_of("eval", bond=bond, code="from_other()")
        self.assertEqual(error.code, -32000)
        self.assertIn("disconnected", error.message)
        self.client.request("close", bond=bond)

    def test_answered_at_once_while_the_bond_is_busy(self):
        bond = self.client.open(name="exports-busy")
        self.client.request("export", bond=bond, name="callback")
        with self.daemon.connect() as other:
            other.request("attach", name="exports-busy")
            self.client.send({"jsonrpc": "2.0", "id": "loop", "method": "eval_block",
                              "params": {"bond": bond,
                                         "code": "print('looping', flush=True)\nwhile True: pass"}})
            self.assertEqual(self.client.read()["method"], "output")  # it is running now
            self.assertEqual(other.request("exports", bond=bond), ["callback"])
            other.request("interrupt", bond=bond)
            error = self.client.wait_reply("loop")["error"]
            self.assertEqual((error["code"], error["data"]["type"]), (-32002, "Interrupted"))
        self.client.request("close", bond=bond)

    def test_only_for_a_bond_the_caller_holds(self):
        bond = self.client.open()
        self.client.request("export", bond=bond, name="private")
        with self.daemon.connect() as other:
            error = other.request_message("exports", {"bond": bond})["error"]
            self.assertEqual(error["code"], -32005)
            self.assertIn("is unknown to this client", error["message"])
        self.client.request("close", bond=bond)
        error = self.error_of("exports", bond=bond)
        self.assertEqual(error.code, -32005)
        self.assertIn("is unknown to this client", error.message)

    def test_params_are_checked(self):
        bond = self.client.open()
        for params, mentions in [({}, "bond"), ({"bond": 7}, "bond"),
                                 ({"bond": bond, "name": "x"}, "name")]:
            with self.subTest(params=params):
                error = self.client.request_message("exports", params)["error"]
                self.assertEqual(error["code"], -32602)
                self.assertIn(mentions, error["message"])

    def test_a_bond_that_has_ended_answers_terminated(self):
        bond = self.client.open()
        self.client.request("export", bond=bond, name="gone_with_it")
        self.assertEqual(self.error_of("eval", bond=bond, code="__import__('os')._exit(3)").code,
                         -32003)
        error = self.error_of("exports", bond=bond)
        self.assertEqual(error.code, -32003)
        self.assertEqual(error.data["type"], "TerminatedException")


if __name__ == "__main__":
    unittest.main()
