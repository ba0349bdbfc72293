"""The non-interactive sub-commands of `bond`, run as a user runs them: stdout, stderr, exit codes.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from cli_support import (BOND, BY_KEY, HANG_GUARD, REGISTERED, REGISTRY, Client, Daemon, read_line,
                         run)

# Per language, from drivers/registry.json and tests/languages.json (name, version_command,
# ...) and the latter's "cli": an expression and its value as JSON, code that raises and the words
# of its error, a file that dies in f() and what `bond exec` prints for it ({path}: the file's
# path), a statement printing "out" and "err" to stdout and stderr, a function definition of
# `twice`, and a script that prints its pid and loops for ever.
LANGUAGES = {key: {**entry, **entry["cli"]} for key, entry in BY_KEY.items()}


def write_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as file:
        file.write(text)
    return path


class Eval(unittest.TestCase):
    def test_prints_the_value_as_json(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                code, expected = table["expression"]
                status, out, err = run("eval", lang, code)
                self.assertEqual((status, out, err), (0, expected + "\n", ""))

    def test_an_error_goes_to_stderr_with_status_1(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                code, words = table["raises"]
                status, out, err = run("eval", lang, code)
                self.assertEqual((status, out), (1, ""))
                self.assertIn(words, err)

    def test_a_syntax_error_is_at_the_line_typed_with_nothing_the_driver_added(self):
        for lang, code, present, absent in [
                ("python", "1 +", "<string>", "<bond>"),
                ("perl", "1 +", "at -e line 1", "line 2"),
                ("php", "1 +", "unexpected end of file", '")"'),
                ("php", "foo(", "Unclosed '('", '";"'),
                ("js", "1 +", "SyntaxError", "<bond>")]:
            with self.subTest(lang=lang, code=code):
                status, _, err = run("eval", lang, code)
                self.assertEqual(status, 1)
                self.assertIn(present, err)
                self.assertNotIn(absent, err)
                self.assertNotIn("eval()'d code", err)

    def test_php_messages_do_not_show_the_driver(self):
        status, _, err = run("eval", "php", "(function (int $x) { return $x; })('a')")
        self.assertEqual(status, 1)
        self.assertIn("TypeError: {closure}(): Argument #1 ($x) must be of type int, string given, "
                      "called in Command line code on line 1\n", err)  # as php -r says it
        status, _, err = run("call", "php", "fn(int $x) => $x", '"a"')  # called by the driver
        self.assertEqual(status, 1)
        self.assertIn("must be of type int, string given\n", err)
        self.assertNotIn("called in", err)
        status, _, err = run("eval", "php", "$undefined")  # a warning
        self.assertEqual(err, "Warning: Undefined variable $undefined in Command line code on line 1\n")

    def test_values_of_every_kind(self):
        status, out, _ = run("eval", "python",
                             "{'s': 'é\\n', 'n': None, 'f': 1.5, 'b': b'\\x00\\xff', 'big': 2**63 - 1}")
        self.assertEqual(status, 0)
        self.assertEqual(json.loads(out), {"s": "é\n", "n": None, "f": 1.5,
                                           "b": {"$bytes": "AP8="}, "big": 2**63 - 1})

    def test_output_comes_before_the_value(self):
        status, out, _ = run("eval", "python", "print('said ', end='') or 'value'")
        self.assertEqual((status, out), (0, 'said \n"value"\n'))

    def test_an_object_prints_as_what_it_is(self):
        status, out, _ = run("eval", "python", "[object(), 1]")
        self.assertEqual((status, out), (0, "[<Python object object #1>,1]\n"))
        status, out, _ = run("eval", "php", "new ArrayObject([])")
        self.assertEqual((status, out), (0, "<PHP object ArrayObject #1>\n"))

    def test_a_promise_is_awaited(self):
        status, out, _ = run("eval", "js", "new Promise(done => setTimeout(() => done(7), 5))")
        self.assertEqual((status, out), (0, "7\n"))


class Exec(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def test_runs_a_file_and_forwards_its_output(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                path = write_file(self.directory.name, "prints", table["prints"])
                status, out, err = run("exec", lang, path)
                self.assertEqual((status, out, err), (0, "out\n", "err\n"))

    def test_runs_stdin(self):
        status, out, _ = run("exec", "perl", "-", input="print 6 * 7, \"\\n\";")
        self.assertEqual((status, out), (0, "42\n"))

    def test_a_php_file_keeps_its_html(self):
        path = write_file(self.directory.name, "page.php",
                          "<h1><?php echo strtoupper('title'); ?></h1>\n<?php echo 1 + 1;")
        self.assertEqual(run("exec", "php", path), (0, "<h1>TITLE</h1>\n2", ""))

    def test_a_failing_script_exits_1_after_its_output(self):
        path = write_file(self.directory.name, "fails.py", "print('before')\nraise ValueError('no')\n")
        status, out, err = run("exec", "python", path)
        self.assertEqual((status, out), (1, "before\n"))
        self.assertIn("ValueError: no", err)

    def test_an_error_names_the_file_and_is_printed_as_the_language_prints_it(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                text, printed = table["dies"]
                path = write_file(self.directory.name, "die", text)
                self.assertEqual(run("exec", lang, path), (1, "", printed.replace("{path}", path)))
                # a file --load runs before a call (the file dies before the call)
                status, _, err = run("call", lang, "f", "--load", path)
                self.assertEqual((status, err), (1, printed.replace("{path}", path)))

    def test_a_function_of_a_loaded_file_keeps_its_file_in_later_errors(self):
        text = LANGUAGES["python"]["dies"][0]
        path = write_file(self.directory.name, "die.py", text)
        status, _, err = run("repl", "python", input=":load %s\nf()\n" % path)
        self.assertEqual(status, 0)
        self.assertIn('Traceback (most recent call last):\n'
                      '  File "<string>", line 1, in <module>\n'
                      '  File "%s", line 2, in f\nValueError: boom\n' % path, err)

    def test_a_syntax_error_of_a_file_names_the_file_and_its_line(self):
        path = write_file(self.directory.name, "bad.py", "x = 1\n1 +* 2\n")
        status, _, err = run("exec", "python", path)
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith('  File "%s", line 2\nSyntaxError: ' % path), err)
        path = write_file(self.directory.name, "bad.pl", "my $x = 1;\n1 + ;\n")
        self.assertIn("at %s line 2" % path, run("exec", "perl", path)[2])

    def test_a_missing_file_is_an_error_that_says_why(self):
        path = os.path.join(self.directory.name, "absent.py")
        status, _, err = run("exec", "python", path)
        self.assertEqual((status, err), (1, "bond: cannot read %s: No such file or directory\n" % path))

    # Per language: a script printing its arguments as the language's own command sets them
    # ("|"-joined, the program's name first), then its file name (PHP: $argc and the last of
    # $_SERVER['argv']); what it prints for `bond exec LANG NAME one "two words" -- -v` run in its
    # directory ({path}: the absolute path), and for stdin with the argument "x", as the
    # language's own command prints them.
    ARGUMENTS = {
        "python": ("import sys\nprint('|'.join(sys.argv))\nprint(__file__)\n",
                   "args.py|one|two words|-v\n{path}\n", "-|x\n<stdin>\n"),
        "perl": ("print join('|', $0, @ARGV), \"\\n\";",
                 "args.pl|one|two words|-v\n", "-|x\n"),
        "php": ("<?php echo implode('|', $argv), \"\\n\", $argc, ' ', end($_SERVER['argv']), \"\\n\";",
                "args.php|one|two words|-v\n4 -v\n", "Standard input code|x\n2 x\n"),
        "js": ("console.log(process.argv.slice(1).join('|'));\nconsole.log(__filename);\n",
               "{path}|one|two words|-v\n{path}\n", "-|x\n[stdin]\n"),
    }

    def test_a_script_gets_its_arguments_and_its_file_name(self):
        for lang, (text, printed, from_stdin) in self.ARGUMENTS.items():
            with self.subTest(lang=lang):
                name = "args." + {"python": "py", "perl": "pl", "php": "php", "js": "js"}[lang]
                path = os.path.realpath(write_file(self.directory.name, name, text))
                self.assertEqual(run("exec", lang, name, "one", "two words", "--", "-v",
                                     cwd=self.directory.name),
                                 (0, printed.replace("{path}", path), ""))
                self.assertEqual(run("exec", lang, "-", "x", input=text), (0, from_stdin, ""))

    def test_bond_options_after_the_file_are_bonds(self):
        status, out, err = run("exec", "python", "-", "--limit", "wall=5s", "one", "--cwd", "/",
                               input="import os, sys\nprint(sys.argv, os.getcwd())\n")
        self.assertEqual((status, out, err), (0, "['-', 'one'] /\n", ""))

    # Per language: a script that prints "before" and exits with status 3.
    EXITS = {"python": "import sys\nprint('before')\nsys.exit(3)\nprint('after')\n",
             "perl": "print \"before\\n\"; exit 3; print \"after\\n\";",
             "php": "<?php echo \"before\\n\"; exit(3); echo 'after';",
             "js": "console.log('before');\nprocess.exit(3);\nconsole.log('after');\n"}

    def test_a_script_that_calls_exit_ends_with_its_status(self):
        for lang, text in self.EXITS.items():
            with self.subTest(lang=lang):
                path = write_file(self.directory.name, "exits", text)
                self.assertEqual(run("exec", lang, path), (3, "before\n", ""))
        path = write_file(self.directory.name, "exits.php", "<?php echo 'bye'; exit;")
        self.assertEqual(run("exec", "php", path), (0, "bye", ""))
        self.assertEqual(run("eval", "python", "exit(4)"), (4, "", ""))
        # Status 70 is a driver's fault (docs/protocol.md): reported, not passed on.
        status, _, err = run("eval", "python", "__import__('os')._exit(70)")
        self.assertEqual(status, 1)
        self.assertIn("TerminatedException", err)

    def test_limits_stop_a_runaway_script(self):
        status, _, err = run("exec", "python", "-", "--limit", "wall=500ms",
                             input="while True:\n    pass\n")
        self.assertEqual(status, 1)
        self.assertIn("LimitExceeded[Python]: the code ran longer than its time limit", err)

    def test_cwd_and_command(self):
        status, out, _ = run("exec", "python", "-", "--cwd", self.directory.name,
                             "--command", "python3 -X utf8", input="import os, sys\n"
                             "print(os.getcwd(), sys.flags.utf8_mode)\n")
        self.assertEqual((status, out), (0, os.path.realpath(self.directory.name) + " 1\n"))

    def test_arg_and_timeout(self):
        status, out, _ = run("eval", "python", "__import__('sys').flags.utf8_mode",
                             "--arg=-X", "--arg", "utf8")
        self.assertEqual((status, out), (0, "1\n"))
        # No reply within --timeout: the bond is closed and the command fails.
        status, _, err = run("eval", "python", "__import__('time').sleep(60)", "--timeout", "0.5")
        self.assertEqual(status, 1)
        self.assertIn("TimeoutException[Python]", err)

    def test_a_command_that_does_not_exist(self):
        status, _, err = run("eval", "python", "1", "--command", "no-such-interpreter-here")
        self.assertEqual(status, 1)
        self.assertIn("no-such-interpreter-here", err)

    def test_ctrl_c_interrupts_the_code_and_exits_130(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                path = write_file(self.directory.name, "loop", table["loop"])
                process = subprocess.Popen([BOND, "exec", lang, path], stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
                interpreter = int(read_line(process.stdout))
                process.send_signal(signal.SIGINT)
                _, err = process.communicate(timeout=HANG_GUARD)
                self.assertEqual(process.returncode, 130)
                self.assertIn("Interrupted[%s]" % table["name"], err)
                with self.assertRaises(ProcessLookupError):
                    os.kill(interpreter, 0)

    def test_sandbox(self):
        if shutil.which("bwrap") is None:
            if os.environ.get("CI"):
                self.fail("bwrap is missing (scripts/setup installs it)")
            self.skipTest("bwrap is not installed")
        status, out, _ = run("eval", "python", "__import__('os').path.exists('%s')"
                             % self.directory.name, "--sandbox")
        self.assertEqual((status, out), (0, "false\n"))
        status, out, _ = run("eval", "python", "__import__('os').listdir('%s')"
                             % self.directory.name, "--sandbox-read", self.directory.name)
        self.assertEqual((status, out), (0, "[]\n"))

    def test_container(self):
        for kind, tool in [("lxc", "lxc-execute"), ("nspawn", "systemd-nspawn")]:
            with self.subTest(kind=kind):
                reason = ("containers need root here" if os.geteuid() != 0 else
                          None if shutil.which(tool) else "%s is not installed" % tool)
                if reason:
                    if os.environ.get("CI"):
                        self.fail("CI must run this, but " + reason)
                    self.skipTest(reason)
                # The container's /tmp is its own: the host's directory there is not in it.
                with tempfile.TemporaryDirectory(dir="/tmp") as host_tmp:
                    status, out, _ = run("eval", "python", "__import__('os').path.exists('%s')"
                                         % host_tmp, "--container", kind)
                self.assertEqual((status, out), (0, "false\n"))
        status, _, err = run("eval", "python", "1", "--container", "docker")
        self.assertEqual(status, 2)
        self.assertIn("--container", err)


class PipedRepl(unittest.TestCase):
    """bond repl with its input from a pipe: each line as if typed (the terminal's side is in
    test_repl.py)."""

    def test_python_and_javascript_show_a_bare_expression_as_their_repls_do(self):
        for lang, lines in [
                ("python", ["def f(x):", "    return x * 2", "", "f(21)", "f(0);", "None", "y = 5",
                            "print('printed')", "'text'", "[y, f(y)]", "!None"]),
                ("js", ["function f(x) { return x * 2 }", "f(21)", "undefined", "let y = 5",
                        "console.log('printed')", "'text';", "[y, f(y)]", "!undefined"])]:
            with self.subTest(lang=lang):
                status, out, err = run("repl", lang, input="\n".join(lines) + "\n")
                self.assertEqual((status, out), (0, '42\nprinted\n"text"\n[5,10]\nnull\n'), err)

    def test_php_and_perl_show_only_what_bang_asks_for(self):
        for lang, lines in [("php", ["function f($x) { return $x * 2; }", "f(21);", "!f(21)"]),
                            ("perl", ["sub f { return $_[0] * 2 }", "f(21)", "!f(21)"])]:
            with self.subTest(lang=lang):
                self.assertEqual(run("repl", lang, input="\n".join(lines) + "\n")[:2], (0, "42\n"))

    def test_help_says_which_lines_show_a_value(self):
        status, _, err = run("repl", "perl", input=":help\n")
        self.assertEqual(status, 0)
        self.assertIn("PHP and Perl", err)
        self.assertIn("my $x", err)

    def test_a_php_line_may_start_with_the_open_tag(self):
        status, out, err = run("repl", "php", input="<?php echo 'one';\n<?php\necho 'two';\n"
                                                    "<?php function f() {\nreturn 3; }\n!f()\n")
        self.assertEqual((status, out), (0, "one\ntwo\n3\n"), err)  # each output ends its line

    def test_input_left_unfinished_at_the_end_is_reported(self):
        for lang, text, words in [("php", "echo 'ran';\nfunction f() {\n", "Unclosed '{'"),
                                  ("python", "print('ran')\nf(\n", "was never closed"),
                                  ("perl", "print 'ran';\nsub f {\n", "Missing right curly"),
                                  ("js", "console.log('ran')\nfunction f() {\n", "SyntaxError")]:
            with self.subTest(lang=lang):
                status, out, err = run("repl", lang, input=text)
                self.assertEqual((status, out.strip()), (1, "ran"))
                self.assertIn(words, err)
        # A compound statement of Python ends at the end of the input as at an empty line.
        self.assertEqual(run("repl", "python", input="for i in range(2):\n    print(i)\n")[:2],
                         (0, "0\n1\n"))

    def test_exit_ends_the_session_quietly_with_its_status(self):
        for lang, line, status in [("python", "exit(3)", 3), ("python", "import sys; sys.exit(5)", 5),
                                   ("python", "exit()", 0), ("php", "exit(3);", 3),
                                   ("php", "exit;", 0), ("perl", "exit 3", 3),
                                   ("js", "process.exit(3)", 3)]:
            with self.subTest(lang=lang, line=line):
                self.assertEqual(run("repl", lang, input=line + "\nprint_after\n")[:2], (status, ""))
                err = run("repl", lang, input=line + "\n")[2]
                self.assertNotIn("TerminatedException", err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)  # the greeting alone


class Call(unittest.TestCase):
    def test_json_arguments(self):
        self.assertEqual(run("call", "php", "explode", '","', '"a,b,c"'), (0, '["a","b","c"]\n', ""))
        self.assertEqual(run("call", "python", "dict", '[["k", {"n": [1, null]}]]'),
                         (0, '{"k":{"n":[1,null]}}\n', ""))
        self.assertEqual(run("call", "perl", "length", '{"$bytes": "AAEC"}'), (0, "3\n", ""))

    def test_load_defines_the_function(self):
        with tempfile.TemporaryDirectory() as directory:
            for lang, table in LANGUAGES.items():
                with self.subTest(lang=lang):
                    path = write_file(directory, "twice", table["twice"])
                    self.assertEqual(run("call", lang, "twice", "21", "--load", path),
                                     (0, "42\n", ""))

    def test_an_argument_that_is_not_json_is_a_usage_error(self):
        status, out, err = run("call", "php", "strtoupper", "hello")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("'hello' is not JSON", err)


class Usage(unittest.TestCase):
    COMMANDS = ["repl", "eval", "exec", "call", "attach", "serve", "drivers"]

    def test_usage_errors_exit_2(self):
        for args, words in [((), "subcommand"), (("frobnicate",), "subcommand is required"),
                            (("eval", "python"), "CODE is required"),
                            (("eval", "cobol", "1"), "unknown language 'cobol'"),
                            (("eval", "python", "1", "--limit", "wall=fast"), "wants a number"),
                            (("eval", "python", "1", "--limit", "speed=1"),
                             "--limit: unknown limit 'speed'"),
                            (("eval", "python", "1", "--bogus"), "--bogus")]:
            with self.subTest(args=args):
                status, out, err = run(*args)
                self.assertEqual((status, out), (2, ""))
                self.assertIn(words, err)

    def test_a_bad_limit_is_named_once(self):
        status, _, err = run("exec", "python", "-", "--limit", "wal=1s", input="")
        self.assertEqual(status, 2)
        self.assertEqual(err.count("--limit"), 1, err)
        self.assertIn("--limit: unknown limit 'wal'", err)

    def test_a_script_argument_like_an_option_needs_a_double_dash(self):
        status, out, err = run("exec", "python", "-", "-v", input="")
        self.assertEqual((status, out), (2, ""))
        self.assertIn("-v", err)

    def test_help_and_version_on_every_sub_command(self):
        for command in [None] + self.COMMANDS:
            args = [command] if command else []
            with self.subTest(command=command):
                status, out, _ = run(*args, "--help")
                self.assertEqual(status, 0)
                self.assertIn("Usage", out)
                status, out, _ = run(*args, "--version")
                self.assertEqual((status, out), (0, "bond 0.1.0\n"))

    def test_log_level(self):
        status, _, err = run("eval", "python", "1", "--log-level", "debug")
        self.assertEqual(status, 0)
        self.assertRegex(err, r"\[bond\] \[(debug|info)\]")
        self.assertEqual(run("eval", "python", "1")[2], "")


class Drivers(unittest.TestCase):
    def test_every_language_with_the_interpreters_own_version(self):
        status, out, _ = run("drivers", "--json")
        self.assertEqual(status, 0)
        reports = {report["lang"]: report for report in json.loads(out)}
        self.assertEqual(set(reports), set(REGISTERED))
        for table in LANGUAGES.values():
            report = reports[table["name"]]
            with self.subTest(lang=report["lang"]):
                own = subprocess.run(table["version_command"], capture_output=True, text=True,
                                     check=True).stdout.strip()
                self.assertEqual((report["found"], report["version"], report["error"]),
                                 (True, own, None))
                self.assertEqual(report["path"], shutil.which(report["command"]))

    def test_the_table(self):
        status, out, _ = run("drivers")
        self.assertEqual(status, 0)
        for table in LANGUAGES.values():
            self.assertRegex(out, r"(?m)^%s +\d+\.\d+\S* +/" % table["name"])

    def test_an_interpreter_that_is_not_there(self):
        status, out, _ = run("drivers", "--json", env={"PATH": "/nonexistent"})
        self.assertEqual(status, 1)  # nothing works at all
        for report in json.loads(out):
            self.assertFalse(report["found"])
            packages = " ".join(REGISTRY[report["lang"]]["debian_packages"])
            self.assertEqual(report["error"], "%s is not on PATH (Debian: apt-get install %s)"
                             % (report["command"], packages))


class Serve(unittest.TestCase):
    def test_serves_clients_and_stops_on_sigterm(self):
        daemon = Daemon()
        self.assertEqual(daemon.ready_line, "unix " + daemon.socket_path)
        client = Client(daemon.socket_path)
        opened = client.request("open", lang="perl")
        self.assertEqual(client.request("eval", bond=opened["bond"], code="6 * 7"), 42)
        client.close()
        status, log = daemon.stop()
        self.assertEqual(status, 0)
        self.assertIn("opened", log)

    def test_daemon_options_are_checked(self):
        status, _, err = run("serve", "--stdio", "--socket", "/tmp/x.sock")
        self.assertEqual(status, 2)
        self.assertIn("excludes", err)


class Attach(unittest.TestCase):
    """bond attach with its input from a pipe: each line as if typed (the terminal's side, keys
    and Ctrl+C, is in test_repl.py)."""

    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.stop)
        self.owner = Client(self.daemon.socket_path, exports={"greet": lambda who: "hello " + who})
        self.addCleanup(self.owner.close)
        self.bond = self.owner.request("open", lang="python", name="shared")["bond"]
        self.owner.request("export", bond=self.bond, name="greet")

    def attach(self, lines, *args):
        return run("attach", "shared", "--socket", self.daemon.socket_path, *args, input=lines,
                   env={**os.environ, "HOME": self.daemon.directory.name})

    def test_shares_the_bond_with_its_owner(self):
        status, out, err = self.attach("x = 5\n!x * 2\n:exports\n!greet('operator')\n")
        self.assertEqual(status, 0, err)
        self.assertIn("10\n", out)
        self.assertIn('"hello operator"\n', out)
        self.assertIn("greet", err)  # :exports is a notice, on stderr
        self.assertEqual(self.owner.request("eval", bond=self.bond, code="x"), 5)

    def test_errors_and_output(self):
        status, out, err = self.attach("print('from attach')\n1/0\n!'still here'\n")
        self.assertEqual(status, 0)
        self.assertIn("from attach\n", out)
        self.assertIn("RemoteException[Python]: ZeroDivisionError: division by zero", err)
        self.assertIn('"still here"', out)

    def test_objects_print_as_what_they_are_and_are_let_go(self):
        self.owner.request("eval_block", bond=self.bond,
                           code="freed = []\nclass Tracked:\n    def __del__(self):\n"
                                "        freed.append(1)\n")
        status, out, err = self.attach("![Tracked(), {'n': 1}]\n!len(freed)\n")
        self.assertEqual(status, 0, err)
        self.assertIn('[<Python object Tracked #1>,{"n":1}]\n1\n', out)

    def test_code_that_exits_ends_attach_quietly_with_its_status(self):
        # As bond repl and bond exec: the daemon passes the status on (data.exit_status).
        status, out, err = self.attach("print('before')\nexit(3)\nprint('after')\n")
        self.assertEqual((status, out), (3, "before\n"), err)
        self.assertNotIn("TerminatedException", err)
        reply = self.owner.request_message("eval", {"bond": self.bond, "code": "1"})
        self.assertEqual(reply["error"]["code"], -32003)  # the interpreter has ended

    def test_leaving_lets_go_without_closing(self):
        self.assertEqual(self.attach("y = 1\n")[0], 0)
        self.assertEqual(self.owner.request("eval", bond=self.bond, code="y"), 1)

    def test_an_unknown_name(self):
        status, _, err = run("attach", "nobody-has-this", "--socket", self.daemon.socket_path)
        self.assertEqual(status, 1)
        self.assertIn("BondException", err)

    def test_no_daemon(self):
        status, _, err = run("attach", "shared", "--socket", "/nonexistent/bondd.sock")
        self.assertEqual(status, 1)
        self.assertIn("cannot connect to bondd at /nonexistent/bondd.sock", err)


if __name__ == "__main__":
    unittest.main()
