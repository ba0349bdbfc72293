"""The REPL as a person uses it: keys typed into a real terminal (tmux), the screen read back.

Every wait is for text to appear on the terminal (terminal.py), with a deadline that only guards
against hangs.
"""
import os
import re
import tempfile
import threading
import unittest

from cli_support import BOND, BY_KEY, HANG_GUARD, Client, Daemon
from terminal import Terminal, require_tmux


def setUpModule():
    require_tmux()


def environment(home, **more):
    """This process's environment for a program in the terminal, with its own home (so its own
    history) and colour allowed, as a person's terminal has it."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("NO_COLOR", "XDG_STATE_HOME")}
    return {**env, "HOME": home, **more}

# Per language, from drivers/registry.json and tests/languages.json (name, pid, ...) and the
# latter's "repl": the lines of a two-line function `twice` as typed (the REPL asks for more after
# each but the last), code that prints "spinning" (written so that the typed line does not
# contain the word) and then loops for ever, and a statement printing "tostderr" to stderr.
LANGUAGES = {key: {**entry, **entry["repl"]} for key, entry in BY_KEY.items()}


def process_exists(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Repl(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.TemporaryDirectory(prefix="bond-repl-home-")
        self.addCleanup(self.home.cleanup)
        self.env = environment(self.home.name)

    def start(self, lang):
        terminal = Terminal([BOND, "repl", lang], env=self.env)
        self.addCleanup(terminal.close)
        return terminal

    def type_line(self, terminal, line, then):
        terminal.send(line)
        terminal.press("Enter")
        return terminal.expect(then)

    def test_a_session(self):
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                self.session(lang, table)

    def session(self, lang, table):
        prompt = re.escape(table["name"] + "> ")
        terminal = self.start(lang)
        terminal.expect(prompt)

        # A function typed over several lines, then called.
        lines = table["twice"]
        for line in lines[:-1]:
            self.type_line(terminal, line, re.escape(".... "))
        self.type_line(terminal, lines[-1], prompt)
        self.type_line(terminal, "!twice(21)", r"\n42\n")
        terminal.expect(prompt)
        pid = int(self.type_line(terminal, "!" + table["pid"], r"\n(\d+)\n").group(1))
        terminal.expect(prompt)

        # A trailing backslash continues the input.
        self.type_line(terminal, "!twice(\\", re.escape(".... "))
        self.type_line(terminal, "5)", r"\n10\n")
        terminal.expect(prompt)

        # Ctrl+C stops an endless loop; the prompt comes back and the function still works.
        for line in table["spin"][:-1]:
            self.type_line(terminal, line, re.escape(".... "))
        self.type_line(terminal, table["spin"][-1], r"spinning")
        terminal.press("C-c")
        terminal.expect(re.escape("Interrupted[%s]" % table["name"]))
        terminal.expect(prompt)
        self.type_line(terminal, "!twice(2)", r"\n4\n")
        terminal.expect(prompt)

        # Ctrl+C at the prompt drops what was typed.
        terminal.send("this is not code")
        terminal.press("C-c")
        terminal.expect(prompt)
        self.type_line(terminal, "!twice(3)", r"\n6\n")
        terminal.expect(prompt)

        # Up brings back the last line.
        terminal.press("Up")
        terminal.expect(re.escape("!twice(3)"))
        terminal.press("Enter")
        terminal.expect(r"\n6\n")
        terminal.expect(prompt)

        # Errors print in the library's words and the session goes on.
        self.type_line(terminal, "!undefined_thing_here()",
                       re.escape("RemoteException[%s]: " % table["name"]))
        terminal.expect(prompt)

        # Ctrl+D ends the session and the interpreter.
        terminal.press("C-d")
        self.assertEqual(terminal.wait_exit(), 0)
        self.assertFalse(process_exists(pid))

        history = os.path.join(self.home.name, ".local", "state", "bond", "history-" + lang)
        with open(history) as file:
            self.assertIn("!twice(3)", file.read().replace("\\040", " "))
        self.assertEqual(os.stat(history).st_mode & 0o777, 0o600)

    def test_ctrl_d_the_instant_the_prompt_appears_is_never_lost(self):
        # 20 sessions one after the other in one terminal, each ended by Ctrl+D pressed as soon
        # as the prompt is seen: at the first prompt, or at the prompt that follows code (after
        # the terminal's mode is given back by the code's run). A lost Ctrl+D leaves a session
        # waiting, and the next greeting never comes.
        rounds = 20
        for lang, table in LANGUAGES.items():
            with self.subTest(lang=lang):
                prompt = re.escape(table["name"] + "> ")
                terminal = Terminal(["sh", "-c", 'for i in $(seq %d); do "$0" repl "$1" || exit; '
                                     'done' % rounds, BOND, lang], env=self.env)
                self.addCleanup(terminal.close)
                for round in range(rounds):
                    terminal.expect(re.escape(table["name"]) + r" \(.*process \d+\)")
                    terminal.expect(prompt)
                    if round % 2:
                        self.type_line(terminal, "!6 * 7", r"\n42\n" + prompt)
                    terminal.press("C-d")
                self.assertEqual(terminal.wait_exit(), 0)

    def test_a_php_line_typed_with_the_open_tag(self):
        terminal = self.start("php")
        terminal.expect(r"PHP> ")
        self.type_line(terminal, "<?php echo 6 * 7;", r"\n42\nPHP> ")

    def test_exit_ends_the_session_with_its_status(self):
        terminal = self.start("python")
        terminal.expect(r"Python> ")
        self.type_line(terminal, "import sys; sys.exit(3)", r"\n")
        self.assertEqual(terminal.wait_exit(), 3)
        self.assertNotIn("Terminated", terminal.screen())

    def test_history_outlives_the_session(self):
        first = self.start("python")
        first.expect(r"Python> ")
        self.type_line(first, "!'remembered' + '!'", r'"remembered!"')
        first.expect(r"Python> ")
        first.press("C-d")
        self.assertEqual(first.wait_exit(), 0)

        second = self.start("python")
        second.expect(r"Python> ")
        second.press("Up")
        second.press("Enter")
        second.expect(r'"remembered!"')

    def test_keys_typed_while_code_runs_wait_for_the_prompt(self):
        fifo = os.path.join(self.home.name, "gate")
        os.mkfifo(fifo)
        terminal = self.start("python")
        terminal.expect(r"Python> ")
        self.type_line(terminal, "!open(%r).read()" % fifo, re.escape("read()"))
        # Opening the FIFO waits until the code opens it too: the code is running.
        opened = []
        opener = threading.Thread(target=lambda: opened.append(os.open(fifo, os.O_WRONLY)))
        opener.start()
        opener.join(HANG_GUARD)
        self.assertTrue(opened, "the code never opened the FIFO")
        terminal.send("!6 * 7")
        terminal.press("Enter")
        terminal.press("C-d")
        os.write(opened[0], b"done")
        os.close(opened[0])
        terminal.expect(r'"done"\n')
        terminal.expect(r"\n42\n")
        self.assertEqual(terminal.wait_exit(), 0)
        self.assertEqual(terminal.screen().count("!6 * 7"), 1)  # drawn once, by the prompt

    def test_remote_stderr_is_red(self):
        terminal = self.start("php")
        terminal.expect(r"PHP> ")
        self.type_line(terminal, LANGUAGES["php"]["stderr"], r"tostderr")
        terminal.expect(r"PHP> ")
        self.assertRegex(terminal.screen(styled=True), r"\x1b\[31m(\x1b\[[0-9;]*m)*tostderr")

    def test_no_color_means_no_red(self):
        self.env["NO_COLOR"] = "1"
        terminal = self.start("perl")
        terminal.expect(r"Perl> ")
        self.type_line(terminal, LANGUAGES["perl"]["stderr"], r"tostderr")
        terminal.expect(r"Perl> ")
        self.assertNotIn("\x1b[31m", terminal.screen(styled=True))

    def test_load_help_and_quit(self):
        script = os.path.join(self.home.name, "defs.php")
        with open(script, "w") as file:
            file.write("<?php\nfunction loaded() { return 'from the file'; }\n")
        terminal = self.start("php")
        terminal.expect(r"PHP> ")
        self.type_line(terminal, ":load " + script, r"PHP> ")
        self.type_line(terminal, "!loaded()", r'"from the file"')
        self.type_line(terminal, ":help", r":load FILE")
        self.type_line(terminal, ":exports", r"no host functions")
        self.type_line(terminal, ":nonsense", r"unknown command :nonsense")
        self.type_line(terminal, ":quit", r"\n")
        self.assertEqual(terminal.wait_exit(), 0)


class Attach(unittest.TestCase):
    """Two people attached to one named bond that a program holds through the daemon."""

    def test_two_panes_share_one_bond(self):
        daemon = Daemon()
        self.addCleanup(daemon.stop)
        owner = Client(daemon.socket_path, exports={"greet": lambda who: "hello " + who})
        self.addCleanup(owner.close)
        bond = owner.request("open", lang="python", name="shared")["bond"]
        owner.request("export", bond=bond, name="greet")

        home = tempfile.TemporaryDirectory(prefix="bond-attach-home-")
        self.addCleanup(home.cleanup)
        command = [BOND, "attach", "shared", "--socket", daemon.socket_path]
        first = Terminal(command, env=environment(home.name))
        self.addCleanup(first.close)
        second = first.split(command)
        prompt = r"Python> "
        first.expect(prompt)
        second.expect(prompt)

        # State is shared.
        first.send("counter = 41")
        first.press("Enter")
        first.expect(prompt)
        second.send("!counter + 1")
        second.press("Enter")
        second.expect(r"\n42\n")
        second.expect(prompt)

        # The second pane runs an endless loop; the first pane's request waits for the bond;
        # Ctrl+C in the second pane interrupts the loop, and the first gets its answer.
        second.send(LANGUAGES["python"]["spin"][0])
        second.press("Enter")
        second.expect(re.escape(".... "))
        second.press("Enter")
        second.expect(r"spinning")
        first.send("!counter * 2")
        first.press("Enter")
        second.press("C-c")
        second.expect(re.escape("Interrupted[Python]"))
        second.expect(prompt)
        first.expect(r"\n82\n")
        first.expect(prompt)

        # The functions the owner exported, called from a pane, run in the owner.
        first.send(":exports")
        first.press("Enter")
        first.expect(r"greet")
        first.expect(prompt)
        first.send("!greet('pane')")
        first.press("Enter")
        first.expect(r'"hello pane"')
        first.expect(prompt)

        # Leaving lets go of the bond; the owner still holds it.
        first.press("C-d")
        second.press("C-d")
        self.assertEqual(first.wait_exit(), 0)
        self.assertEqual(second.wait_exit(), 0)
        self.assertEqual(owner.request("eval", bond=bond, code="counter"), 41)


if __name__ == "__main__":
    unittest.main()
