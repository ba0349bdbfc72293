"""bond_client's blocking API against a real bondd: connecting, bonds and their methods,
errors, output, exports, nesting, threads, remote objects."""
import contextlib
import gc
import io
import os
import signal
import tempfile
import threading
import unittest
import unittest.mock

from daemon_fixture import (BONDD, LANGUAGE_NAMES, ClientTestCase, Daemon, bond_client,
                            peer_answering_garbage)
from bond_client import (BondException, Interrupted, LimitExceeded, RemoteException,
                         SerializationException, TerminatedException, TimeoutException)


class Connecting(unittest.TestCase):
    def test_a_unix_socket(self):
        with Daemon() as daemon, bond_client.Client(daemon.socket_path) as client:
            self.assertEqual(client.drivers(), LANGUAGE_NAMES)

    def test_tcp_with_a_token(self):
        with tempfile.NamedTemporaryFile("w", suffix=".token") as token_file:
            token_file.write("sesame\n")
            token_file.flush()
            with Daemon("--listen", "127.0.0.1:0", "--token-file", token_file.name) as daemon:
                address = [line.split()[1] for line in daemon.listeners
                           if line.startswith("tcp ")][0]
                with bond_client.Client(address=address, token="sesame") as client:
                    with client.open("perl") as perl:
                        self.assertEqual(perl.eval("2 ** 10"), 1024)
                with bond_client.Client(address=address, token_file=token_file.name) as client:
                    self.assertIn("PHP", client.drivers())
                with self.assertRaises(BondException):
                    bond_client.Client(address=address, token="wrong")

    def test_nothing_given_starts_a_private_daemon_that_ends_with_the_client(self):
        with bond_client.Client(bondd=BONDD) as client:
            daemon = client._daemon.process
            with client.open("Python") as python:
                self.assertEqual(python.call("len", "four"), 4)
        self.assertIsNotNone(daemon.poll())
        self.assertEqual(daemon.returncode, 0)

    def test_the_private_daemon_is_found_through_BONDD(self):
        with unittest.mock.patch.dict(os.environ, BONDD=BONDD):
            self.assertEqual(bond_client.find_bondd(), BONDD)
            with bond_client.Client() as client:
                self.assertEqual(client._daemon.process.args[0], BONDD)
        with unittest.mock.patch.dict(os.environ, BONDD="/nonexistent/bondd"):
            with self.assertRaises(BondException) as raised:
                bond_client.Client()
            self.assertIn("/nonexistent/bondd", str(raised.exception))

    def test_a_missing_socket_is_a_bond_exception(self):
        with self.assertRaises(BondException) as raised:
            bond_client.Client("/nonexistent/bondd.sock")
        self.assertIn("/nonexistent/bondd.sock", str(raised.exception))


class Bonds(ClientTestCase):
    def test_eval_eval_block_call_callable(self):
        with self.client.open("PHP") as php:
            php.eval_block("function add($a, $b) { return $a + $b; }")
            self.assertEqual(php.eval("add(1, 2)"), 3)
            self.assertEqual(php.call("add", 40, 2), 42)
            explode = php.callable("explode")
            self.assertEqual(explode(" ", "a b"), ["a", "b"])
            self.assertEqual(explode.__name__, "explode")

    def test_values_cross_as_json_and_bytes(self):
        with self.client.open("Python") as python:
            value = {"list": [1, 2.5, None, True], "text": "é\n", "nested": {"a": [{}]}}
            self.assertEqual(python.call("lambda x: x", value), value)
            self.assertEqual(python.call("lambda b: b + b'!'", b"\x00\xff"), b"\x00\xff!")
            self.assertEqual(python.call("lambda t: t", (1, 2)), [1, 2])

    def test_open_options_reach_the_interpreter(self):
        with tempfile.TemporaryDirectory() as directory:
            with self.client.open("Python", cwd=directory, env={"GREETING": "hi"},
                                  args=["-X", "utf8"]) as python:
                self.assertEqual(python.eval("__import__('os').getcwd()"),
                                 os.path.realpath(directory))
                self.assertEqual(python.eval("__import__('os').environ.get('GREETING')"), "hi")
                self.assertEqual(python.eval("__import__('sys').flags.utf8_mode"), 1)

    def test_export_as_a_method_and_as_a_decorator(self):
        with self.client.open("JavaScript") as js:
            js.export(lambda text: text.upper(), "upper")

            @js.export
            def twice(x):
                return 2 * x

            @js.export("half")
            def halve(x):
                return x / 2

            self.assertEqual(js.eval("upper('a') + twice(21) + half(8)"), "A424")
            self.assertEqual(js.exports(), ["half", "twice", "upper"])

    def test_proxy_between_bonds(self):
        with self.client.open("PHP") as php, self.client.open("Perl") as perl:
            php.proxy("explode", perl)
            self.assertEqual(perl.eval('explode("=", "Mind=blown!")'), ["Mind", "blown!"])
            php.proxy("strtoupper", perl, "upper")
            self.assertEqual(perl.call("upper", "x"), "X")

    def test_ref_passes_code_as_an_argument(self):
        with self.client.open("Perl") as perl, tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "file.txt")
            perl.eval_block(f'open($fd, ">", "{path}");')
            handle = perl.ref("$fd")
            perl.call("syswrite", handle, "Hello world!")
            perl.call("close", handle)
            with open(path) as written:
                self.assertEqual(written.read(), "Hello world!")
            self.assertEqual(perl.eval(perl.ref("1 + 1")), 2)

    def test_attach_to_a_named_bond(self):
        with self.client.open("Python", name="shared") as python:
            python.eval_block("counter = 41")
            with bond_client.Client(self.daemon.socket_path) as other:
                attached = other.attach("shared")
                self.assertEqual(attached.lang, "Python")
                self.assertEqual(attached.eval("counter + 1"), 42)
                attached.close()
            self.assertEqual(python.eval("counter"), 41)

    def test_closing_a_bond_twice_is_harmless(self):
        php = self.client.open("PHP")
        php.close()
        php.close()
        self.assertEqual([b for b in self.client.list() if b.get("held")], [])


class Serving(ClientTestCase):
    def test_serve_answers_calls_that_other_clients_cause(self):
        with self.client.open("PHP", name="served") as php:
            php.export(lambda text: text[::-1], "reverse")
            serving = threading.Thread(target=self.client.serve)
            serving.start()
            with bond_client.Client(self.daemon.socket_path) as other:
                attached = other.attach("served")
                self.assertEqual(attached.eval("reverse('abc') . '!'"), "cba!")
                attached.close()
        self.client.close()  # serve() returns once the client is closed
        serving.join()


class Output(ClientTestCase):
    def test_output_goes_to_the_callback_before_the_answer(self):
        with self.client.open("PHP") as php:
            php.eval_block('echo "hi\\n"; fwrite(STDERR, "oops");')
            self.assertEqual(self.output, [("stdout", "hi\n"), ("stderr", "oops")])

    def test_by_default_output_goes_to_sys_stdout_and_stderr(self):
        with bond_client.Client(self.daemon.socket_path) as client, \
                client.open("Python") as python:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                python.eval_block("import sys\nprint('out')\nprint('err', file=sys.stderr)")
            self.assertEqual((out.getvalue(), err.getvalue()), ("out\n", "err\n"))

    def test_a_bond_may_have_its_own_handler(self):
        mine = []
        with self.client.open("Perl", on_output=lambda *args: mine.append(args)) as perl:
            perl.eval_block('print "x";')
            self.assertEqual(mine, [(perl, "stdout", "x")])
            self.assertEqual(self.output, [])


class Errors(ClientTestCase):
    def test_remote_exception_with_data(self):
        with self.client.open("Python") as python:
            with self.assertRaises(RemoteException) as raised:
                python.eval("1/0")
            self.assertEqual(str(raised.exception), "ZeroDivisionError: division by zero")
            self.assertEqual(raised.exception.data, "ZeroDivisionError: division by zero")
            self.assertEqual(raised.exception.lang, "Python")
            self.assertIsInstance(raised.exception, BondException)
            self.assertIsInstance(raised.exception, RuntimeError)
            self.assertEqual(python.eval("1 + 1"), 2)

    def test_trans_except_gives_the_serialized_exception(self):
        with self.client.open("Python", trans_except=True) as python:
            with self.assertRaises(RemoteException) as raised:
                python.eval("int('x')")
            self.assertEqual(raised.exception.data["type"], "ValueError")

    def test_serialization_exception_sides(self):
        with self.client.open("Python") as python:
            with self.assertRaises(SerializationException) as local:
                python.call("id", object())
            self.assertEqual(local.exception.side, "local")
            with self.assertRaises(SerializationException) as remote:
                python.eval("float('nan')")  # JSON has no NaN
            self.assertEqual(remote.exception.side, "remote")

    def test_limit_exceeded_names_its_limit(self):
        with self.client.open("Python") as python:
            with self.assertRaises(LimitExceeded) as raised:
                python.eval("sum(i for i in range(10**10))", limits={"cpu_ms": 300})
            self.assertEqual(raised.exception.limit, "cpu")
            self.assertIsInstance(raised.exception, RemoteException)
            self.assertEqual(python.eval("2"), 2)

    def test_interrupt_from_another_thread(self):
        with self.client.open("Python") as python:
            looping = threading.Event()
            python.export(looping.set, "looping")
            interrupter = threading.Thread(target=lambda: (looping.wait(), python.interrupt()))
            interrupter.start()
            with self.assertRaises(Interrupted):
                python.eval_block("looping()\nwhile True:\n    pass")
            interrupter.join()
            self.assertEqual(python.eval("3"), 3)

    def test_timeout_closes_the_bond(self):
        python = self.client.open("Python", timeout=0.5)
        with self.assertRaises(TimeoutException):
            python.eval("__import__('time').sleep(60)")
        with self.assertRaises(BondException):
            python.eval("1")

    def test_an_exported_function_that_raises_fails_in_the_remote_code(self):
        with self.client.open("PHP") as php:
            @php.export
            def lookup(user):
                raise KeyError(f"no such user: {user}")
            php.eval_block("function safe($u) { try { return lookup($u); } "
                           "catch (Exception $e) { return 'caught: ' . $e->getMessage(); } }")
            self.assertEqual(php.call("safe", "bob"), "caught: KeyError: 'no such user: bob'")
            with self.assertRaises(RemoteException) as raised:
                php.call("lookup", "eve")
            self.assertIn("no such user: eve", str(raised.exception))
            self.assertEqual(php.eval("1 + 1"), 2)

    def test_keyboard_interrupt_while_waiting_interrupts_the_remote_code(self):
        with self.client.open("Python") as python:
            # SIGINT from another thread once the remote code is about to loop: the main thread
            # gets it while it waits for the answer.
            python.export(lambda: threading.Thread(
                target=os.kill, args=(os.getpid(), signal.SIGINT)).start(), "interrupt_me")
            with self.assertRaises(KeyboardInterrupt):
                python.eval_block("interrupt_me()\nwhile True:\n    pass")
            self.assertEqual(python.eval("'still here'"), "still here")

    def test_code_that_exits_is_a_terminated_exception_with_its_status(self):
        python = self.client.open("Python")
        with self.assertRaises(TerminatedException) as raised:
            python.eval_block("import sys\nsys.exit(3)")
        self.assertEqual(raised.exception.exit_status, 3)
        with self.assertRaises(TerminatedException) as later:  # its end was not seen
            python.eval("1")
        self.assertIsNone(later.exception.exit_status)
        killed = self.client.open("Python")
        with self.assertRaises(TerminatedException) as raised:
            killed.eval("__import__('os').kill(__import__('os').getpid(), 9)")
        self.assertIsNone(raised.exception.exit_status)
        self.assertIn("was killed by signal 9 (SIGKILL)", str(raised.exception))

    def test_a_daemon_that_goes_away_mid_call_is_a_terminated_exception(self):
        with Daemon() as daemon:
            client = bond_client.Client(daemon.socket_path)
            python = client.open("Python")
            python.export(lambda: daemon.process.kill(), "kill_the_daemon")
            with self.assertRaises(TerminatedException):
                python.eval_block("kill_the_daemon()\nwhile True:\n    pass")
            with self.assertRaises(TerminatedException):
                python.eval("1")
            client.close()

    def test_an_answer_that_is_not_json_closes_the_connection(self):
        with peer_answering_garbage() as path:
            client = bond_client.Client(path, on_output=lambda *args: self.output.append(args))
            with self.assertRaises(bond_client.ProtocolError) as raised:
                client.drivers()
            self.assertIn("not JSON-RPC", str(raised.exception))
            self.assertIn("<html>not json</html>", str(raised.exception))
            self.assertEqual(self.output, [("b1", "stdout", "kept")])
            with self.assertRaises(bond_client.ProtocolError):
                client.drivers()
            client.close()


class Nesting(ClientTestCase):
    def test_callbacks_nest_to_any_depth(self):
        with self.client.open("Python") as python:
            python.eval_block("def down(n):\n    return 0 if n == 0 else py_down(n - 1) + 1")
            python.export(lambda n: python.call("down", n), "py_down")
            self.assertEqual(python.call("down", 40), 40)

    def test_across_languages(self):
        with self.client.open("PHP") as php, self.client.open("JavaScript") as js:
            php.eval_block("function php_side($n) { return $n <= 0 ? 'php' : py_to_js($n - 1); }")
            js.eval_block("globalThis.js_side = n => n <= 0 ? 'js' : py_to_php(n - 1)")
            php.export(lambda n: js.call("js_side", n), "py_to_js")
            js.export(lambda n: php.call("php_side", n), "py_to_php")
            self.assertEqual(php.call("php_side", 7), "js")
            self.assertEqual(php.call("php_side", 8), "php")


class Threads(ClientTestCase):
    def test_one_connection_from_several_threads(self):
        failures = []

        def work(index):
            try:
                with self.client.open("Python") as python:
                    python.export(lambda x: x * index, "scale")
                    for i in range(100):
                        if python.call("lambda i: scale(i) + 1", i) != i * index + 1:
                            failures.append((index, i))
            except Exception as error:
                failures.append(error)
        threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])

    def test_threads_sharing_one_bond(self):
        with self.client.open("PHP") as php:
            results = {}

            def work(index):
                results[index] = [php.call("strrev", f"{index}-{i}") for i in range(50)]
            threads = [threading.Thread(target=work, args=(index,)) for index in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for index in range(3):
                self.assertEqual(results[index], [f"{index}-{i}"[::-1] for i in range(50)])


class RemoteObjects(ClientTestCase):
    def test_attributes_methods_and_calls(self):
        with self.client.open("PHP") as php:
            php.eval_block("class Cart { public $items = []; function add($x) { "
                           "$this->items[] = $x; return count($this->items); } }")
            cart = php.eval("new Cart()")
            self.assertIsInstance(cart, bond_client.RemoteObject)
            self.assertEqual(cart.remote_type, "Cart")
            self.assertEqual(cart.add("apple"), 1)
            self.assertEqual(cart.call_method("add", "pear"), 2)
            self.assertEqual(cart.items, ["apple", "pear"])
            cart.items = ["fig"]
            self.assertEqual(cart.value(), {"items": ["fig"]})
            by_length = php.eval("function ($a, $b) { return strlen($a) - strlen($b); }")
            self.assertEqual(by_length("aa", "a"), 1)
            self.assertEqual(repr(cart), f"<bond proxy of Cart #{cart._number}>")

    def test_passed_back_the_code_gets_the_original(self):
        with self.client.open("Python") as python:
            python.eval_block("class Tally:\n    def __init__(self):\n        self.n = 0")
            tally = python.eval("Tally()")
            self.assertTrue(python.call("lambda a, b: a is b", tally, tally))
            python.call("lambda t: setattr(t, 'n', 5)", tally)
            self.assertEqual(tally.n, 5)

    def test_released_when_collected(self):
        with self.client.open("JavaScript") as js:
            kept = js.eval("new Map()")
            number = kept._number
            del kept
            gc.collect()
            js.eval("1")  # the release goes with the next message
            with self.assertRaises(BondException) as raised:
                self.client._connection.request("object_get", {"object": number})
            self.assertIn("not held", str(raised.exception))

    def test_objects_anywhere_in_a_result(self):
        with self.client.open("Perl") as perl:
            perl.eval_block("package Counter; sub new { bless {n => 0}, shift } "
                            "sub up { ++$_[0]{n} } package main;")
            pair = perl.eval("{ pair => [Counter->new, Counter->new], n => 2 }")
            first, second = pair["pair"]
            self.assertEqual(first.call_method("up"), 1)
            self.assertEqual(first.call_method("up"), 2)
            self.assertEqual(second.call_method("up"), 1)


if __name__ == "__main__":
    unittest.main()
