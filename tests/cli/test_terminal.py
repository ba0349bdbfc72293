"""The terminal harness (terminal.py) on real programs in real tmux, before the bond REPL that
it is for exists: cat, sh, bash and Python's own REPL; and its plain-text reading alone."""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest
from unittest import mock

from terminal import HANG_GUARD, PlainText, Terminal, require_tmux

HERE = os.path.dirname(os.path.abspath(__file__))


def plain(*pieces):
    text = PlainText()
    for piece in pieces:
        text.feed(piece)
    return text.pending()


def running(pid):
    """Whether the process runs (neither gone nor a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def wait_until_ended(pid):
    """Waits (pidfd, hang guard only) until the process has ended; whether it did."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([descriptor], [], [], HANG_GUARD)[0])
    finally:
        os.close(descriptor)


class PlainTextReading(unittest.TestCase):
    def test_escape_sequences_and_control_characters_are_removed(self):
        self.assertEqual(
            plain("\x1b[1;31mred\x1b[0m \x1b]0;a title\x07x\x07\x00 \x1bP1$r\x1b\\y"
                  " \x1b(Bz\x1b= \x1b[?2004hw\x1b]8;;http://x\x1b\\v\x0e\r\n"),
            "red x y z wv\n")

    def test_newline_and_tab_stay(self):
        self.assertEqual(plain("a\tb\r\nc\n"), "a\tb\nc\n")

    def test_a_sequence_split_across_pieces_is_removed(self):
        text = "\x1b[38;5;196mred\x1b[0m\x1b]2;title\x1b\\!"
        self.assertEqual(plain(*text), "red!")
        self.assertEqual(plain(text[:3], text[3:20], text[20:]), "red!")

    def test_cancel_abandons_a_sequence(self):
        self.assertEqual(plain("\x1b[31\x18text \x1b]0;t\x18more"), "text more")

    def test_a_redrawn_line_reads_as_it_is_shown(self):
        self.assertEqual(plain("PHP> abc\r\x1b[KPHP> xyz"), "PHP> xyz")  # history recall
        self.assertEqual(plain("PHP> abc\b\b\x1b[P"), "PHP> ac")          # delete a character
        self.assertEqual(plain("PHP> ac\b\x1b[@b"), "PHP> abc")           # insert one
        self.assertEqual(plain("abc\b \b\b \b"), "a  ")                    # tty erase echo
        self.assertEqual(plain("abcdef\x1b[3D\x1b[2X\x1b[G>"), ">bc  f")
        self.assertEqual(plain("abc\x1b[2K\rdone\n"), "done\n")
        self.assertEqual(plain("a\x1b[3Cb"), "a   b")

    def test_expect_consumes_up_to_the_match(self):
        text = PlainText()
        text.feed("one\ntwo\nthree")
        match = text.search(re.compile(r"t\w+"))
        self.assertEqual((match.group(), match.string[:match.start()]), ("two", "one\n"))
        self.assertEqual(text.pending(), "\nthree")
        self.assertIsNone(text.search(re.compile("one")))
        self.assertEqual(text.pending(), "\nthree")

    def test_what_is_consumed_stays_consumed_when_the_line_is_redrawn(self):
        text = PlainText()
        text.feed("PHP> ")
        self.assertTrue(text.search(re.compile("PHP> ")))
        text.feed("\rPHP> f(2)\x1b[K")  # the prompt drawn again, with a recalled line
        self.assertEqual(text.pending(), "f(2)")
        text.feed("\r\x1b[K")           # the line cleared: nothing new
        self.assertEqual(text.pending(), "")
        text.feed("PHP> g()")           # what is drawn on the cleared line is new
        self.assertEqual(text.pending(), "PHP> g()")

    def test_strings_are_handed_over(self):
        strings = []
        text = PlainText(on_string=strings.append)
        text.feed("a\x1b]bond;one\x07b\x1b]two\x1b\\c")
        self.assertEqual((strings, text.pending()), (["bond;one", "two"], "abc"))


class Programs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_tmux()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="bond-terminal-test-")
        self.addCleanup(shutil.rmtree, self.home)

    def test_cat_echoes_typed_lines_and_ends_on_ctrl_d(self):
        with Terminal(["cat"]) as term:
            term.send("echo 'hello';")  # a trailing ";" once ended tmux's command
            term.press("Enter")
            term.expect("echo 'hello';\necho 'hello';\n")  # the tty's echo, then cat's
            term.press("C-d")
            self.assertEqual(term.wait_exit(), 0)

    def test_utf8_goes_both_ways(self):
        with Terminal(["cat"]) as term:
            term.send("héllo € ✓")
            term.press("Enter")
            term.expect("héllo € ✓\nhéllo € ✓\n")
            self.assertIn("héllo € ✓\nhéllo € ✓", term.screen())

    def test_exit_status(self):
        for command, status in ((["sh", "-c", "exit 3"], 3),
                                (["sh", "-c", "kill -TERM $$"], -signal.SIGTERM),
                                (["no-such-program-bond"], 127)):
            with self.subTest(command=command), Terminal(command) as term:
                self.assertEqual(term.wait_exit(), status)
                self.assertEqual(term.wait_exit(), status)  # asked again
        with Terminal(["no-such-program-bond"]) as term:
            term.expect("no-such-program-bond: No such file or directory")

    def test_all_output_comes_before_the_exit_status(self):
        with Terminal(["sh", "-c", "seq 1 20000; printf end; exit 5"]) as term:
            self.assertEqual(term.wait_exit(), 5)
            numbers = term.expect(r"end\Z")  # no waiting: it is all there
            self.assertEqual(numbers.string[:numbers.start()].split(),
                             [str(n) for n in range(1, 20001)])

    def test_a_terminal_of_the_given_size_in_colour_with_the_inherited_environment(self):
        script = ('stty size; tput colors; echo "$TERM [${NO_COLOR-unset}] $LANG"; '
                  '[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-terminals; '
                  'grep -E "^Sig(Ign|Blk)" /proc/self/status')
        with mock.patch.dict(os.environ, {"NO_COLOR": "1", "BOND_TERMINAL_TEST": "x"}), \
                Terminal(["sh", "-c", script + '; echo "$BOND_TERMINAL_TEST"'],
                         width=100, height=30) as term:
            self.assertEqual(term.wait_exit(), 0)
            term.expect(r"\A30 100\n256\ntmux-256color \[unset\] \S+\nall-terminals\n")
            # Nothing ignored or blocked that a terminal would not: the launcher leaves none.
            term.expect(r"\ASigBlk:\s+0+\nSigIgn:\s+0+\nx\n")

    def test_an_explicit_environment_and_directory(self):
        env = {"PATH": os.environ["PATH"], "FOO": "bar baz", "NO_COLOR": "1"}
        with Terminal(["sh", "-c", 'echo "$FOO|$NO_COLOR|$TERM|$LANG|$(pwd)"'],
                      env=env, cwd=self.home) as term:
            term.expect(f"bar baz|1|tmux-256color|C.UTF-8|{re.escape(self.home)}\n")
        env["TERM"], env["LC_ALL"] = "dumb", "C"
        with Terminal(["sh", "-c", 'echo "$TERM|$LANG|$LC_ALL"'], env=env) as term:
            term.expect(r"dumb\|\|C\n")

    def test_colours_are_on_the_styled_screen(self):
        with Terminal(["sh", "-c", r'printf "\033[31mred\033[0m plain\n" >&2; exec cat']) as term:
            term.expect("red plain\n")
            self.assertIn("\x1b[31mred", term.screen(styled=True))
            self.assertEqual(term.screen(), "red plain")

    def test_a_python_repl_session(self):
        env = {**os.environ, "HOME": self.home}
        env.pop("PYTHONSTARTUP", None)
        with Terminal([sys.executable, "-q", "-i"], env=env) as term:
            term.expect(">>> ")
            for line in ("def twice(x):", "    return 2 * x", ""):
                term.send(line)
                term.press("Enter")
            term.expect(r"\n>>> ")
            term.send("twice(21)")
            term.press("Enter")
            term.expect(r"\n42\n>>> ")
            # A long call rather than a busy loop: Python 3.11 does not always catch an
            # interrupt that lands on a loop's jump (its exception table leaves it out).
            for line in ("import time", "try:", "    time.sleep(3600)", "except KeyboardInterrupt:",
                         "    print('interrupted')", ""):
                term.send(line)
                term.press("Enter")
            term.expect(r"\.\.\. \n")  # it runs: no prompt comes
            term.press("C-c")
            term.expect(r"\^Cinterrupted\n>>> ")  # the terminal echoes Ctrl+C as ^C
            term.send("twice(4)")
            term.press("Enter")
            term.expect(r"\n8\n>>> ")
            term.press("Up")  # history: the line comes back, on the screen and in the text
            term.expect_screen(r">>> twice\(4\)\Z")
            term.expect(r"\Atwice\(4\)\Z")
            term.press("Enter")
            term.expect(r"\n8\n>>> ")
            term.press("C-d")
            self.assertEqual(term.wait_exit(), 0)

    def test_ctrl_c_reaches_the_program(self):
        with Terminal(["sh", "-c", "echo ready; cat; echo cat-ended"]) as term:
            term.expect("ready\n")
            term.send("typed")
            term.press("C-c")  # ends cat, and sh with it: both in the terminal's foreground
            self.assertEqual(term.wait_exit(), -signal.SIGINT)

    def test_two_panes_on_one_server(self):
        with Terminal(["cat"], height=20) as first:
            second = first.split(["sh", "-c", "stty size; exec cat"])
            second.expect(r"\A9 120\n")  # half of the height, less the border
            second.send("to the second")
            second.press("Enter")
            second.expect("to the second\nto the second\n")
            first.send("to the first")
            first.press("Enter")
            match = first.expect("to the first\nto the first\n")
            self.assertEqual(match.string[:match.start()], "")
            self.assertNotIn("second", first.screen())
            self.assertNotIn("first", second.screen())
            second.press("C-d")
            self.assertEqual(second.wait_exit(), 0)
            first.send("still here")
            first.press("Enter")
            first.expect("still here\n")

    def test_a_failed_expect_says_what_there_was(self):
        with Terminal(["sh", "-c", "echo bye; exit 4"]) as term:
            with self.assertRaises(AssertionError) as failure:
                term.expect("never")  # fails at the program's end, not at the hang guard
            report = str(failure.exception)
            for part in ("/never/", "status 4", "bye\n", "--- screen ---\nbye"):
                self.assertIn(part, report)
            with self.assertRaises(AssertionError):
                term.expect_screen("never")

    def test_the_hang_guard(self):
        with Terminal(["cat"]) as term:
            with self.assertRaisesRegex(AssertionError, "still runs after 0.1 s"):
                term.expect("never", timeout=0.1)
            with self.assertRaisesRegex(AssertionError, "to end"):
                term.wait_exit(timeout=0.1)
            with self.assertRaises(AssertionError):
                term.expect_screen("never", timeout=0.1)

    def test_press_refuses_a_name_tmux_would_type(self):
        with Terminal(["cat"]) as term:
            with self.assertRaisesRegex(ValueError, "Enterr"):
                term.press("Enterr")
            term.press("a", "C-a", "M-b", "F5", "S-Up", "BSpace")
        with self.assertRaises(ValueError):
            Terminal([])

    def test_leaving_ends_the_programs_also_on_a_failure(self):
        with self.assertRaisesRegex(ZeroDivisionError, "division"):
            with Terminal(["cat"]) as term:
                pids = [term.pid, term.split(["cat"]).pid]
                directory = term._server.directory
                1 / 0
        self.assertEqual([pid for pid in pids if running(pid)], [])
        self.assertFalse(os.path.exists(directory))

    def test_a_killed_test_leaves_nothing_running(self):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent("""
                import sys
                from terminal import Terminal
                term = Terminal(["cat"])
                server = term._server.run("display-message", "-p", "#{pid}").strip()
                print(term.pid, server, term._server.directory, flush=True)
                sys.stdin.read()
            """)], cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.assertTrue(select.select([child.stdout], [], [], HANG_GUARD)[0])
            program, server, directory = child.stdout.readline().split()
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
            child.stdin.close()
        self.addCleanup(shutil.rmtree, directory, True)  # only close() removes it
        self.assertTrue(wait_until_ended(int(program)), "cat outlived a killed test")
        self.assertTrue(wait_until_ended(int(server)), "tmux outlived a killed test")


if __name__ == "__main__":
    unittest.main()
