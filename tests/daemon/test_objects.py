"""bondd's remote objects: handed out in results, used by number, released (docs/daemon.md)."""
import unittest

from bondd_harness import TABLE, Client, DaemonTestCase, RpcError

# tests/languages.json: the statements defining class Tally (Tally(start), attribute count,
# add(n) returning the new count) and same(a, b), the identity test; an expression making a
# Tally that starts at 5; a closure adding 1.
LANGUAGES = {entry["name"]: (entry["define_tally"] + "\n" + entry["define_users"],
                             entry["new_tally"], entry["adder"]) for entry in TABLE}

# A Python object that counts, in `freed`, how many of its kind its interpreter let go of.
TRACKED = ("freed = []\n"
           "class Tracked:\n"
           "    def __del__(self):\n"
           "        freed.append(1)\n")


def object_call(client, handle, method=None, args=None):
    """object_call's answer (Client.request has a `method` of its own)."""
    params = {"object": handle}
    if method is not None:
        params["method"] = method
    if args is not None:
        params["args"] = args
    reply = client.request_message("object_call", params)
    if "error" in reply:
        raise RpcError(reply["error"])
    return reply["result"]


class Objects(DaemonTestCase):
    def test_every_language_hands_out_objects_and_uses_them(self):
        for lang, (definitions, new_tally, adder) in LANGUAGES.items():
            with self.subTest(lang=lang):
                bond = self.client.open(lang)
                self.client.request("eval_block", bond=bond, code=definitions)
                tally = self.client.request("eval", bond=bond, code=new_tally)
                self.assertEqual(sorted(tally), ["$object", "type"])
                self.assertEqual(tally["type"], "Tally")
                self.assertEqual(object_call(self.client, tally, "add", [3]), 8)
                self.assertEqual(self.client.request("object_get", object=tally, name="count"), 8)
                self.assertIsNone(self.client.request("object_set", object=tally["$object"],
                                                      name="count", value=40))
                self.assertEqual(object_call(self.client, tally, "add", [2]), 42)
                # Passed back to its own bond, the object arrives as the original.
                self.assertIn(self.client.request("call", bond=bond, name="same",
                                                  args=[tally, {"$object": tally["$object"]}]),
                              (True, 1))
                # A closure is called as itself.
                closure = self.client.request("eval", bond=bond, code=adder)
                self.assertEqual(object_call(self.client, closure, args=[41]), 42)
                self.assertIsNone(self.client.request(
                    "release", objects=[tally["$object"], closure["$object"]]))
                self.client.request("close", bond=bond)

    def test_objects_at_any_depth_of_a_result_and_of_the_arguments(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code=LANGUAGES["Python"][0])
        result = self.client.request("eval", bond=bond,
                                     code="{'pair': [Tally(1), Tally(2)], 'n': 3}")
        first, second = result["pair"]
        self.assertEqual(result["n"], 3)
        self.assertNotEqual(first["$object"], second["$object"])
        self.assertEqual(
            self.client.request("call", bond=bond, name="lambda d: [t.count for t in d['ts']]",
                                args=[{"ts": [second, first]}]),
            [2, 1])
        # An attribute or a method's result that is an object is handed out too.
        self.client.request("eval_block", bond=bond, code="box = Tally(0)\nbox.inner = Tally(7)")
        box = self.client.request("eval", bond=bond, code="box")
        inner = self.client.request("object_get", object=box, name="inner")
        self.assertEqual(inner["type"], "Tally")
        self.assertEqual(self.client.request("object_get", object=inner, name="count"), 7)

    def test_object_get_without_a_name_is_the_json_copy(self):
        php = self.client.open("PHP")
        self.client.request("eval_block", bond=php, code=LANGUAGES["PHP"][0])
        tally = self.client.request("eval", bond=php, code="new Tally(5)")
        self.assertEqual(self.client.request("object_get", object=tally), {"count": 5})
        js = self.client.open("JavaScript")
        self.client.request("eval_block", bond=js, code=LANGUAGES["JavaScript"][0])
        tally = self.client.request("eval", bond=js, code="new Tally(7)")
        self.assertEqual(self.client.request("object_get", object=tally), {"count": 7})

    def test_release_lets_the_interpreter_let_go(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code=TRACKED)
        tracked = self.client.request("eval", bond=bond, code="Tracked()")
        self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 0)
        self.client.request("release", objects=[tracked])
        self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 1)
        error = self.error_of("object_get", object=tracked, name="x")
        self.assertEqual(error.code, -32005)
        self.assertIn("not held by this client", error.message)
        error = self.error_of("release", objects=[tracked])
        self.assertIn("already released", error.message)

    def test_many_objects_handed_out_and_released_leave_no_table_growing(self):
        bond = self.client.open()
        self.client.request("eval_block", bond=bond, code=TRACKED)
        for _ in range(50):
            numbers = [self.client.request("eval", bond=bond, code="Tracked()")["$object"]
                       for _ in range(20)]
            self.client.request("release", objects=numbers)
        self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 1000)

    def test_a_client_uses_only_its_own_objects(self):
        bond = self.client.open(name="shared-objects")
        tally = self.client.request("eval", bond=bond, code="[1, 2].__iter__()")
        with Client(self.daemon.socket_path) as other:
            other.request("attach", name="shared-objects")
            with self.assertRaises(RpcError) as raised:
                object_call(other, tally, "__next__")
            self.assertEqual(raised.exception.code, -32005)
            self.assertIn("not held by this client", raised.exception.message)
            with self.assertRaises(RpcError) as raised:
                other.request("call", bond=bond, name="next", args=[tally])
            self.assertIn("not held by this client", raised.exception.message)
        self.assertEqual(object_call(self.client, tally, "__next__"), 1)

    def shared_with_another_client(self, name):
        """A Python bond named `name` (defining Tracked), this client's and another's: the
        bond's id, the other client, and its id of the bond."""
        bond = self.client.open(name=name)
        self.client.request("eval_block", bond=bond, code=TRACKED)
        other = Client(self.daemon.socket_path)
        return bond, other, other.request("attach", name=name)["bond"]

    def test_a_client_that_goes_lets_its_objects_go(self):
        bond, other, other_bond = self.shared_with_another_client("outliving")
        with other:
            other.request("eval", bond=other_bond, code="Tracked()")
            other.request("eval", bond=other_bond, code="[Tracked(), Tracked()]")
            other.finish()  # returns once the daemon has let go of the client
        # Its objects are let go with the next message to the interpreter.
        self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 3)

    def test_letting_go_of_a_bond_lets_its_objects_go(self):
        bond, other, other_bond = self.shared_with_another_client("kept-open")
        with other:
            tracked = other.request("eval", bond=other_bond, code="Tracked()")
            other.request("close", bond=other_bond)
            self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 1)
            with self.assertRaises(RpcError) as raised:
                other.request("object_get", object=tracked, name="x")
            self.assertIn("not held by this client", raised.exception.message)

    def test_an_object_back_through_another_bond_is_filed_under_its_owner(self):
        # Letting go of the bond that returned it keeps it; letting go of its owner lets it go.
        bond, other, other_bond = self.shared_with_another_client("owner")
        with other:
            javascript = other.open("JavaScript")
            other.request("eval_block", bond=javascript, code="function ident(x) { return x; }")
            tracked = other.request("eval", bond=other_bond, code="Tracked()")
            back = other.request("call", bond=javascript, name="ident", args=[tracked])
            other.request("release", objects=[tracked["$object"]])
            other.request("close", bond=javascript)
            self.assertIsNone(other.request("object_set", object=back, name="x", value=7))
            self.assertEqual(other.request("object_get", object=back, name="x"), 7)
            self.assertEqual(self.client.request("eval", bond=bond, code="len(freed)"), 0)
            # Letting go of the owner (this client keeps the bond open) lets go of the handle.
            # (When the interpreter hears of it depends on the closed JavaScript bond's end too,
            # which the daemon finishes after answering: not checked here.)
            other.request("close", bond=other_bond)
            with self.assertRaises(RpcError) as raised:
                other.request("object_get", object=back, name="x")
            self.assertIn("not held by this client", raised.exception.message)

    def test_an_object_of_one_bond_is_a_proxy_in_another(self):
        # Every pair of languages: the user bond's code calls the owner's object through a proxy
        # (the call runs on the owner's thread), and hands it back as the original.
        bonds = {}
        for entry in TABLE:
            bonds[entry["name"]] = self.client.open(entry["name"])
            self.client.request("eval_block", bond=bonds[entry["name"]],
                                code=LANGUAGES[entry["name"]][0] + "\n" + entry["define_ident"])
        for owner, (_, new_tally, adder) in LANGUAGES.items():
            for user in LANGUAGES:
                with self.subTest(owner=owner, user=user):
                    tally = self.client.request("eval", bond=bonds[owner], code=new_tally)
                    self.assertEqual(self.client.request("call", bond=bonds[user],
                                                         name="use_tally", args=[tally]), 7)
                    self.assertEqual(self.client.request("object_get", object=tally,
                                                         name="count"), 7)
                    closure = self.client.request("eval", bond=bonds[owner], code=adder)
                    self.assertEqual(self.client.request("call", bond=bonds[user],
                                                         name="apply_each",
                                                         args=[closure, [1, 2, 3]]), [2, 3, 4])
                    # Back through the user's bond, the owner's object is the original.
                    back = self.client.request("call", bond=bonds[user], name="ident",
                                               args=[tally])
                    self.assertIn(self.client.request("call", bond=bonds[owner], name="same",
                                                      args=[back, tally]), (True, 1))
                    # The owner's error reaches the user's code as its own, and both go on.
                    error = self.error_of("call", bond=bonds[user], name="use_tally",
                                          args=[closure])
                    self.assertEqual(error.code, -32000)
                    self.assertEqual(self.client.request("call", bond=bonds[user],
                                                         name="use_tally", args=[tally]), 9)
                    self.client.request("release", objects=[tally["$object"],
                                                            closure["$object"], back["$object"]])

    def test_a_proxy_handed_back_is_used_on_its_owners_thread(self):
        # A Python object passed through a JavaScript bond comes back to the client: using it
        # runs on the Python bond, however the client got it.
        python, javascript = self.client.open("Python"), self.client.open("JavaScript")
        self.client.request("eval_block", bond=python, code=LANGUAGES["Python"][0])
        self.client.request("eval_block", bond=javascript, code="function ident(x) { return x; }")
        tally = self.client.request("eval", bond=python, code=LANGUAGES["Python"][1])
        back = self.client.request("call", bond=javascript, name="ident", args=[tally])
        self.assertEqual(back["type"], "Tally")
        self.assertEqual(object_call(self.client, back, "add", [1]), 6)
        self.assertIn(self.client.request("call", bond=python, name="same", args=[back, tally]),
                      (True, 1))

    def test_exported_functions_and_proxies_take_and_give_objects(self):
        def keep(bond, thing):
            # A handle of the client's own, usable inside the export; returned, the original.
            self.assertEqual(thing["type"], "Tally")
            self.assertEqual(object_call(self.client, thing, "add", [1]), 6)
            return thing
        self.client.exports["keep"] = keep
        python = self.client.open("Python")
        self.client.request("eval_block", bond=python, code=LANGUAGES["Python"][0])
        self.client.request("export", bond=python, name="keep")
        self.assertEqual(self.client.request(
            "eval", bond=python, code="(lambda t: same(keep(t), t) and t.count)(Tally(5))"), 6)
        # A proxied function of another language gets a proxy of the object, and its calls on
        # it come back to the owner's bond, nested inside the proxied call.
        javascript = self.client.open("JavaScript")
        self.client.request("eval_block", bond=javascript, code=LANGUAGES["JavaScript"][0])
        self.client.request("proxy", bond=javascript, name="use_tally", to=python,
                            remote="js_use_tally")
        self.assertEqual(self.client.request("eval", bond=python,
                                             code="js_use_tally(Tally(5))"), 7)

    def test_bad_handles_are_refused_and_the_bond_goes_on(self):
        bond = self.client.open()
        thing = self.client.request("eval", bond=bond, code="object()")
        for handle, words in [({"$object": 999}, "not held"),
                              ({"$object": "1"}, "named by its number"),
                              ({"$object": thing["$object"], "extra": 1}, "no key \"extra\""),
                              ({"$handle": 0}, "reserved")]:
            with self.subTest(handle=handle):
                error = self.error_of("call", bond=bond, name="id", args=[[handle]])
                self.assertEqual(error.code, -32005)
                self.assertIn(words, error.message)
        self.assertEqual(self.error_of("object_call", object=-1).code, -32005)
        self.assertEqual(self.error_of("object_call").code, -32602)
        self.assertEqual(self.error_of("release").code, -32602)
        # A method that does not exist is the remote code's error.
        with self.assertRaises(RpcError) as raised:
            object_call(self.client, thing, "no_such_method")
        error = raised.exception
        self.assertEqual(error.code, -32000)
        self.assertIn("no_such_method", error.message)
        self.assertEqual(self.client.request("eval", bond=bond, code="6 * 7"), 42)

    def test_an_object_of_an_ended_bond_says_so(self):
        bond = self.client.open()
        thing = self.client.request("eval", bond=bond, code="object()")
        self.error_of("eval", bond=bond, code="__import__('os')._exit(0)")
        error = self.error_of("object_get", object=thing, name="x")
        self.assertIn(error.code, (-32003, -32005))
        self.assertIn("closed", error.message.lower() + str(error.data).lower())


if __name__ == "__main__":
    unittest.main()
