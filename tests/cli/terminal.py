"""A terminal for tests: a program runs in a pane of a private tmux server and is driven as a
person drives it, keys in and a screen out (standard library only).

    with Terminal(["python3", "-q", "-i"]) as term:
        term.expect(">>> ")                # waits for the prompt
        term.send("print(6 * 7)")          # types text, literally
        term.press("Enter")                # presses keys: Enter, C-c, C-d, Up, Tab, F1, M-b...
        term.expect(r"42\n>>> ")
        term.press("C-d")
        assert term.wait_exit() == 0

Reading the output
- expect(pattern) searches the program's output as plain text (PlainText below), from where
  the previous expect() stopped, and consumes it up to the end of the match, which it returns:
  match.string is the text searched, so match.string[:match.start()] is what came before the
  match. The plain text is the byte stream the program wrote, decoded as UTF-8, without escape
  sequences (colours, titles, modes), without carriage returns and other control characters
  (newline and tab stay), with the cursor's line kept as it is shown: a line that line editing
  redraws (backspace, carriage return, erase, insert) reads as it looks: what is drawn over
  consumed text stays consumed, what is drawn on a cleared line is new. A str pattern is
  compiled as it is: ^ and $ need (?m) to match at line ends.
- expect_screen(pattern) waits until the rendered screen (tmux capture-pane) matches; screen()
  returns it now, its rows joined by newlines, trailing blank rows dropped, and with
  styled=True with the colours as escape sequences. After the program has ended, the pane
  keeps showing what it left.

Waiting
Nothing sleeps or polls. A reader thread receives each pane's output as tmux reads it and wakes
whoever waits on it; expect_screen() captures the screen again after each arrival. HANG_GUARD
(60 s) is only a guard against hangs: on it, or as soon as the program has ended without a
match, the call fails with an AssertionError that shows the unread plain text, the last raw
output and the screen.

How
Each Terminal is a tmux server of its own: a socket in a temporary directory and a
configuration of its own (never a user's tmux or ~/.tmux.conf), no status line, so that the pane
is width x height. A control-mode client ("lifeline") creates the session and stays attached;
its end ends the session (destroy-unattached), so that nothing is left behind even when the test
process is killed. Each pane runs a small launcher (LAUNCHER below) that first waits until the
harness reads the pane (tmux pipe-pane into a FIFO, so no output is missed), then starts the
program as its child, with the program's environment and directory, and announces the program's
pid and, after everything the program wrote, its exit status, as escape sequences in the output
(invisible, and removed from the plain text). So wait_exit() knows the status with all output
before it, and the terminal's signals (Ctrl+C, hangup) reach the program as usual. The program
starts with every signal at its default and none blocked, as from a fresh terminal.
Terminal() and split() return once the program has been started, so that keys go to it; as a
person does, a test waits for the program's prompt before it types (a program that sets up line
editing may drop what was typed before).

Keys
send(text) types text literally (tmux send-keys -l); a newline in it is Ctrl+J, not Enter
(a carriage return).
press(*keys) presses named keys: a single character or Enter, Escape, Tab, BTab, Space, BSpace,
Up, Down, Left, Right, Home, End, IC, DC, PPage, NPage, F1...F12, each with any of the C-, M-, S-
prefixes. A name tmux does not know would be typed as text; press() refuses it instead.

Environment
env is the program's whole environment, as for subprocess; None inherits this process's, less
NO_COLOR (the terminal is a colour terminal, as a person's is), TMUX, TMUX_PANE, COLUMNS and
LINES. TERM is tmux-256color unless env sets it; where no LC_ALL, LC_CTYPE or LANG is set,
LANG=C.UTF-8.

Several people
split(command, env=None, cwd=None) opens another pane below this one on the same server (the
two share the window's height), e.g. for two people attached to one bond at once.

Clean-up
close(), or leaving the with block (also on a failure), kills the server, which hangs up each
pane's terminal, and waits until the programs have ended: one that survives the hangup for
HANG_GUARD is killed and close() fails. A Terminal never closed ends with the test process (its
lifeline), leaving only its temporary directory.

Tests that use it call require_tmux() first (setUpModule): without tmux (3.3 or later) it prints
"BOND-SKIP: ..." (ctest reports the test as skipped) and skips, or under CI (env CI set) fails.
"""
import codecs
import itertools
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HANG_GUARD = 60.0  # seconds: only a hang takes this long
TERM = "tmux-256color"
MINIMUM_TMUX = (3, 3)
_ANNOUNCEMENT = "bond-terminal"  # the launcher's escape sequences: ESC ] bond-terminal;... BEL
_NOT_INHERITED = ("NO_COLOR", "TERM", "COLUMNS", "LINES", "TMUX", "TMUX_PANE")
_KEY_NAMES = {"Enter", "Escape", "Tab", "BTab", "Space", "BSpace", "Up", "Down", "Left", "Right",
              "Home", "End", "IC", "DC", "PPage", "NPage", "PageUp", "PageDown", "PgUp", "PgDn",
              "Insert", "Delete", *(f"F{number}" for number in range(1, 13))}
_KEY = re.compile(r"(?:[CMS]-)*(?P<name>.+)")
_SEND_CHUNK = 512  # characters per send-keys: tmux limits the size of a command

_CONFIG = """\
# A pane whose launcher is killed stays, and the session with it.
set -g remain-on-exit on
# The pane is the whole window.
set -g status off
# The session ends with its lifeline client.
set -g destroy-unattached on
set -g default-terminal {term}
set -g default-size {width}x{height}
set -g history-limit 10000
set -g escape-time 0
"""

# Runs in the pane as its process (python3 -I -S -c LAUNCHER SPEC_FILE). It waits for the gate
# (tmux wait-for), opened once the harness reads the pane, then forks the program and lets it
# exec only after announcing its pid, so that the announcement cannot land inside the program's
# own escape sequences. The program starts with every signal at its default and none blocked,
# as from a fresh terminal (tmux leaves SIGTTIN and SIGTTOU ignored, Python SIGPIPE and
# SIGXFSZ); the launcher outlives Ctrl+C and Ctrl+\ to wait for it, then announces its exit
# status (-N for signal N) after CAN, which ends any sequence the program left unfinished, and
# stays until the hangup (which ends it, before or after), so that the pane keeps the screen as
# the program left it (where tmux would scroll it to say "Pane is dead").
LAUNCHER = r"""
import json, os, signal, subprocess, sys
with open(sys.argv[1]) as file:
    spec = json.load(file)
def announce(text):
    try:
        os.write(1, ("\x18\x1b]%s;%s\x07" % (spec["announcement"], text)).encode())
    except OSError:
        pass
if subprocess.run([spec["tmux"], "-S", spec["socket"], "wait-for", spec["gate"]],
                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL).returncode:
    sys.exit("bond terminal: the harness did not open this pane")
for number in (signal.SIGINT, signal.SIGQUIT):
    signal.signal(number, lambda *_: None)
go_read, go_write = os.pipe()
pid = os.fork()
if pid == 0:
    for number in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # one that libc keeps for itself
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.close(go_write)
    os.read(go_read, 1)
    try:
        os.chdir(spec["cwd"])
        os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
    except OSError as error:
        os.write(2, ("%s: %s\n" % (spec["argv"][0], error.strerror)).encode())
    os._exit(127)
os.close(go_read)
announce("started %d" % pid)
os.write(go_write, b"!")
os.close(go_write)
announce("exited %d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
while True:
    signal.pause()
"""


def require_tmux():
    """For setUpModule or setUpClass: returns when tmux is usable; otherwise skips with a
    "BOND-SKIP:" line, or under CI fails (scripts/setup installs tmux)."""
    problem = _tmux_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run this test, but {problem} (scripts/setup installs it)")
    print(f"BOND-SKIP: {problem}", flush=True)
    raise unittest.SkipTest(problem)


def _tmux_problem():
    tmux = shutil.which("tmux")
    if tmux is None:
        return "tmux not installed"
    version = subprocess.run([tmux, "-V"], capture_output=True, text=True).stdout.strip()
    found = re.search(r"(\d+)\.(\d+)", version)
    if not found or tuple(map(int, found.groups())) < MINIMUM_TMUX:
        return f"tmux {'.'.join(map(str, MINIMUM_TMUX))} or later is needed, found {version!r}"
    return None


class PlainText:
    """A program's terminal output as plain text for expect(): fed in pieces as it arrives,
    searched and consumed from the front.

    Removed: escape sequences (CSI, OSC and the other strings, ESC with one or two more
    characters) and control characters but newline and tab. Each OSC string is handed to
    on_string. Kept as a terminal shows it: the line the cursor is on, which carriage return,
    backspace and the CSI sequences that move along the line or erase or insert in it (C, D, G,
    K, J, P, @, X) edit. Not modelled: moving to another row (ignored), wrapping (a line longer
    than the terminal stays one line), wide characters (one column each), tab stops (a tab is
    one character).
    """

    _RUN = re.compile(r"[^\x00-\x1f\x7f-\x9f]+")  # what goes to the line as it is
    _LONGEST_STRING = 4096

    def __init__(self, on_string=None):
        self._on_string = on_string or (lambda payload: None)
        self._finished = ""  # lines the cursor has left, from the first not wholly consumed
        self._line = []      # the cursor's line, one character per column
        self._column = 0
        self._consumed = 0   # how much of _finished + _line has been consumed
        self._state = None   # the method that takes the next character inside a sequence
        self._sequence = ""

    def feed(self, text):
        position = 0
        while position < len(text):
            if self._state is None:
                run = self._RUN.match(text, position)
                if run:
                    self._put(run.group())
                    position = run.end()
                    continue
                self._control(text[position])
            else:
                self._state(text[position])
            position += 1

    def search(self, regex):
        """The first match of regex in the text not yet consumed, which is consumed up to the
        match's end; None (consuming nothing) when there is none."""
        match = regex.search(self.pending())
        if match:
            self._consumed += match.end()
            finished = min(self._consumed, len(self._finished))
            self._finished = self._finished[finished:]
            self._consumed -= finished
        return match

    def pending(self):
        """The text not yet consumed."""
        return (self._finished + "".join(self._line))[self._consumed:]

    def _put(self, text):
        line = self._line
        if self._column > len(line):
            line.extend(" " * (self._column - len(line)))
        line[self._column:self._column + len(text)] = text
        self._column += len(text)

    def _control(self, char):
        if char == "\n":
            self._finished += "".join(self._line) + "\n"
            self._line = []
            self._column = 0
        elif char == "\r":
            self._column = 0
        elif char == "\b":
            self._column = max(0, self._column - 1)
        elif char == "\t":
            self._put(char)
        elif char == "\x1b":
            self._state = self._escape
        elif char in "\x18\x1a":  # CAN and SUB abandon a sequence
            self._state = None
        # Any other control character shows nothing (inside a sequence, too, as in a terminal).

    def _escape(self, char):
        if char == "[":
            self._state, self._sequence = self._control_sequence, ""
        elif char in "]PX^_":
            self._state, self._sequence = self._string, ""
        elif " " <= char <= "/":
            self._state = self._escape_intermediate
        elif char < " ":
            self._control(char)
        else:
            self._state = None

    def _escape_intermediate(self, char):
        if char < " ":
            self._control(char)
        elif char >= "0":
            self._state = None

    def _control_sequence(self, char):
        if "@" <= char <= "~":
            self._state = None
            self._edit_line(self._sequence, char)
        elif char < " ":
            self._control(char)
        else:
            self._sequence += char

    def _string(self, char):
        if char == "\x07":
            self._state = None
            self._on_string(self._sequence)
        elif char == "\x1b":
            self._state = self._string_escape
        elif char in "\x18\x1a":
            self._state = None
        elif len(self._sequence) < self._LONGEST_STRING:
            self._sequence += char

    def _string_escape(self, char):
        if char == "\\":
            self._state = None
            self._on_string(self._sequence)
        else:  # an escape sequence that abandons the string
            self._state = self._escape
            self._escape(char)

    def _edit_line(self, parameters, final):
        if parameters[:1] in ("<", "=", ">", "?"):
            return  # private: modes and queries, no text
        first = parameters.split(";")[0]
        number = int(first) if first.isdigit() else 0
        count = max(1, number)
        line, column = self._line, self._column
        if final == "C":
            self._column += count
        elif final == "D":
            self._column = max(0, column - count)
        elif final == "G":
            self._column = count - 1
        elif final in "KJ":  # erase in line, and in the display as far as this line goes
            if number == 0:
                del line[column:]
            elif number == 1:
                end = min(len(line), column + 1)
                line[:end] = " " * end
            else:
                line.clear()
        elif final == "P":
            del line[column:column + count]
        elif final == "@":
            if column < len(line):
                line[column:column] = " " * count
        elif final == "X":
            end = min(len(line), column + count)
            line[column:end] = " " * max(0, end - column)
        # What is consumed never comes back, even where the line got shorter and grows again.
        self._consumed = min(self._consumed, len(self._finished) + len(line))


class Pane:
    """One program in one tmux pane: what the module's documentation describes."""

    _RAW_TAIL = 2000

    def __init__(self, server, command):
        if not command or not all(isinstance(part, str) for part in command):
            raise ValueError(f"a command is a non-empty list of strings, not {command!r}")
        self._server = server
        self.command = list(command)
        self.pane_id = None  # tmux's %N, once started
        self._text = PlainText(on_string=self._announcement)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._raw_tail = ""
        self._program_pid = None
        self._exit_status = None
        self._output_ended = False  # tmux closed the pane's pipe: the server is gone
        self._arrivals = 0

    def expect(self, pattern, timeout=HANG_GUARD):
        """The first match of pattern in the plain text not yet consumed, consumed up to its
        end; waits for it."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._server.changed:
            while True:
                match = self._text.search(regex)
                if match or self._ended():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._server.changed.wait(remaining)
        if match:
            return match
        raise AssertionError(self._report(f"expected /{regex.pattern}/ in the output", timeout))

    def expect_screen(self, pattern, timeout=HANG_GUARD):
        """The first match of pattern in the rendered screen; waits until there is one."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            with self._server.changed:
                seen = self._arrivals
            match = regex.search(self.screen())
            if match:
                return match
            with self._server.changed:
                while self._arrivals == seen and not self._ended():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._server.changed.wait(remaining)
                if self._arrivals == seen:
                    break
        raise AssertionError(self._report(f"expected /{regex.pattern}/ on the screen", timeout))

    def send(self, text):
        """Types text literally."""
        for start in range(0, len(text), _SEND_CHUNK):
            self._server.run("send-keys", "-t", self.pane_id, "-l", "--",
                             text[start:start + _SEND_CHUNK])

    def press(self, *keys):
        """Presses keys by name, in order: "Enter", "C-c", "C-d", "Up", "M-b", "a"..."""
        for key in keys:
            name = _KEY.fullmatch(key)
            if not name or not (len(name["name"]) == 1 or name["name"] in _KEY_NAMES):
                raise ValueError(f"{key!r} is not a key tmux knows; send() types text")
        if keys:
            self._server.run("send-keys", "-t", self.pane_id, *keys)

    def screen(self, styled=False, scrollback=False):
        """The screen as rendered now (with scrollback: and the lines scrolled off above it);
        styled: with its colours and attributes as escape sequences."""
        arguments = ["capture-pane", "-p", "-t", self.pane_id]
        if styled:
            arguments.append("-e")
        if scrollback:
            arguments += ["-S", "-"]
        return self._server.run(*arguments).rstrip("\n")

    def wait_exit(self, timeout=HANG_GUARD):
        """The program's exit status, -N when signal N ended it; waits for its end."""
        with self._server.changed:
            self._server.changed.wait_for(self._ended, timeout)
            status = self._exit_status
        if status is None:
            raise AssertionError(self._report("expected the program to end", timeout))
        return status

    @property
    def pid(self):
        """The program's process id."""
        with self._server.changed:
            self._server.changed.wait_for(
                lambda: self._program_pid is not None or self._ended(), HANG_GUARD)
            pid = self._program_pid
        if pid is None:
            raise AssertionError(self._report("expected the program to start", HANG_GUARD))
        return pid

    def split(self, command, env=None, cwd=None):
        """Another program in a new pane below this one, on the same server."""
        pane = Pane(self._server, command)
        self._server.start(pane, env, cwd, split_from=self.pane_id)
        return pane

    # Called by the reader thread, with the server's lock held.
    def _receive(self, data):
        text = self._decoder.decode(data)
        self._raw_tail = (self._raw_tail + text)[-self._RAW_TAIL:]
        self._text.feed(text)
        self._arrivals += 1

    def _end_of_output(self):
        self._text.feed(self._decoder.decode(b"", final=True))
        self._output_ended = True
        self._arrivals += 1

    def _announcement(self, payload):
        prefix = _ANNOUNCEMENT + ";"
        if payload.startswith(prefix):
            what, _, number = payload[len(prefix):].partition(" ")
            if what == "started":
                self._program_pid = int(number)
            elif what == "exited":
                self._exit_status = int(number)

    def _ended(self):
        return self._exit_status is not None or self._output_ended

    def _report(self, problem, waited):
        with self._server.changed:
            pending, raw = self._text.pending(), self._raw_tail
            status, output_ended = self._exit_status, self._output_ended
        lines = [f"{problem} of pane {self.pane_id} ({shlex.join(self.command)}), in vain:"]
        if status is not None:
            lines.append(f"the program ended with status {status}" if status >= 0 else
                         f"the program was ended by signal {-status}")
        elif output_ended:
            lines.append("the pane's output ended: the tmux server is gone")
        else:
            lines.append(f"the program still runs after {waited:g} s (the guard against hangs)")
        try:
            screen = self.screen()
        except (RuntimeError, AssertionError) as error:
            screen = f"(no screen: {error})"
        lines += ["--- plain text not yet consumed ---", pending[-3000:],
                  "--- the last raw output ---", repr(raw[-600:]),
                  "--- screen ---", screen, "---"]
        return "\n".join(lines)


class Terminal(Pane):
    """A private tmux server of width x height whose first pane runs command."""

    def __init__(self, command, env=None, width=120, height=40, cwd=None):
        server = _TmuxServer(width, height)
        try:
            super().__init__(server, command)
            server.start(self, env, cwd)
        except BaseException:
            server.close()
            raise

    def close(self):
        """Kills the server and waits for the programs to end (see the module's clean-up)."""
        self._server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def _program_environment(env):
    if env is None:
        env = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
    env = dict(env)
    env.setdefault("TERM", TERM)
    if not any(env.get(name) for name in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"
    return env


def _tmux_argument(argument):
    # tmux takes an argument that ends in ";" for the end of a command, and "\;" for ";".
    return argument[:-1] + "\\;" if argument.endswith(";") else argument


class _TmuxServer:
    """The tmux server, its lifeline client, and the thread that reads the panes' output."""

    def __init__(self, width, height):
        self.tmux = shutil.which("tmux")
        if self.tmux is None:
            raise RuntimeError("tmux not installed (tests call require_tmux() first)")
        self.width, self.height = width, height
        self.directory = tempfile.mkdtemp(prefix="bond-terminal-")
        self.socket = os.path.join(self.directory, "tmux.sock")
        self.config = os.path.join(self.directory, "tmux.conf")
        with open(self.config, "w") as file:
            file.write(_CONFIG.format(term=TERM, width=width, height=height))
        self.changed = threading.Condition()  # guards the panes' state; notified on each change
        self._client_env = {name: value for name, value in os.environ.items()
                            if name not in ("TMUX", "TMUX_PANE")}
        self._panes = []
        self._outputs = {}  # FIFO descriptor -> Pane
        self._tokens = itertools.count()
        self._wake_read, self._wake_write = os.pipe()
        self._lifeline = None
        self._first_pane = None  # the lifeline's new-session reply: ("%0", "") or (None, error)
        self._reader = None
        self._stopping = False
        self._closed = False

    def run(self, *arguments):
        """Runs a tmux command on this server; its standard output."""
        command = [self.tmux, "-u", "-S", self.socket, *map(_tmux_argument, arguments)]
        try:
            done = subprocess.run(command, capture_output=True, encoding="utf-8",
                                  errors="replace", timeout=HANG_GUARD, env=self._client_env)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"tmux {arguments[0]} did not answer within {HANG_GUARD} s")
        if done.returncode != 0:
            raise RuntimeError(f"tmux {shlex.join(arguments)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, pane, env, cwd, split_from=None):
        """Starts pane's command in a new pane (the session's first, or below split_from);
        returns once its output is read and the program has been started."""
        token = next(self._tokens)
        spec = os.path.join(self.directory, f"pane-{token}.json")
        gate = f"bond-terminal-start-{token}"
        with open(spec, "w") as file:
            json.dump({"argv": pane.command, "env": _program_environment(env),
                       "cwd": cwd or os.getcwd(), "tmux": self.tmux, "socket": self.socket,
                       "gate": gate, "announcement": _ANNOUNCEMENT}, file)
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, spec]
        if split_from is None:
            pane.pane_id = self._start_session(launcher)
        else:
            pane.pane_id = self.run("split-window", "-v", "-t", split_from, "-P",
                                    "-F", "#{pane_id}", "--", *launcher).strip()
        fifo = os.path.join(self.directory, f"output-{token}")
        os.mkfifo(fifo, 0o600)
        # Not blocking: select() reports this end only once tmux's writer has come and gone.
        descriptor = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        with self.changed:
            self._panes.append(pane)
            self._outputs[descriptor] = pane
        os.write(self._wake_write, b"!")
        self.run("pipe-pane", "-O", "-t", pane.pane_id, "exec cat > " + shlex.quote(fifo))
        self.run("wait-for", "-S", gate)
        pane.pid  # waits until the program is under way: keys typed now go to it

    def _start_session(self, launcher):
        with open(os.path.join(self.directory, "tmux.log"), "wb") as log:
            self._lifeline = subprocess.Popen(
                [self.tmux, "-u", "-S", self.socket, "-f", self.config, "-C",
                 "new-session", "-f", "no-output,ignore-size", "-x", str(self.width),
                 "-y", str(self.height), "-P", "-F", "#{pane_id}", "--", *launcher],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                env=self._client_env)
        self._reader = threading.Thread(target=self._read, name="terminal output", daemon=True)
        self._reader.start()
        with self.changed:
            self.changed.wait_for(lambda: self._first_pane is not None, HANG_GUARD)
            pane_id, error = self._first_pane or (None, f"no answer within {HANG_GUARD} s")
        if pane_id is None:
            with open(os.path.join(self.directory, "tmux.log"), errors="replace") as log:
                raise RuntimeError(f"tmux did not start a session: {error} {log.read()}".strip())
        return pane_id

    def _read(self):
        lifeline = self._lifeline.stdout.fileno()
        control = b""  # the lifeline's output: only its first reply matters
        block = None
        while True:
            with self.changed:
                if self._stopping or (lifeline is None and not self._outputs):
                    break
                watched = [self._wake_read, *self._outputs] + ([lifeline] if lifeline else [])
            for descriptor in select.select(watched, [], [])[0]:
                data = os.read(descriptor, 65536)
                if descriptor == self._wake_read:
                    continue
                with self.changed:
                    if descriptor == lifeline:
                        if not data:
                            lifeline = None
                        control += data
                        *lines, control = control.split(b"\n")
                        block = self._parse_control(lines, block, ended=not data)
                    elif data:
                        self._outputs[descriptor]._receive(data)
                    else:
                        self._outputs.pop(descriptor)._end_of_output()
                        os.close(descriptor)
                    self.changed.notify_all()
        with self.changed:
            for descriptor, pane in self._outputs.items():
                pane._end_of_output()
                os.close(descriptor)
            self._outputs.clear()
            self.changed.notify_all()

    def _parse_control(self, lines, block, ended):
        """Looks in the lifeline's lines for the reply to new-session (the first pane's id);
        the block of reply lines read so far."""
        for line in lines:
            if self._first_pane is not None:
                break
            text = line.decode(errors="replace")
            if block is None:
                if text.startswith("%begin "):
                    block = []
                elif text.startswith("%exit"):
                    self._first_pane = (None, text)
            elif text.startswith(("%end ", "%error ")):
                ok = text.startswith("%end ") and block
                self._first_pane = (block[0], "") if ok else (None, " ".join(block))
            else:
                block.append(text)
        if ended and self._first_pane is None:
            self._first_pane = (None, "the tmux client ended")
        return block

    def close(self):
        if self._closed:
            return
        self._closed = True
        programs = self._program_descriptors()
        try:
            self.run("kill-server")
        except (RuntimeError, AssertionError):
            pass  # already gone
        survivors = _wait_for_exits(programs, HANG_GUARD)
        for descriptor in survivors:
            signal.pidfd_send_signal(descriptor, signal.SIGKILL)
        _wait_for_exits(survivors, HANG_GUARD)
        for descriptor in programs:
            os.close(descriptor)
        if self._lifeline:
            self._lifeline.stdin.close()
            try:
                self._lifeline.wait(HANG_GUARD)
            except subprocess.TimeoutExpired:
                self._lifeline.kill()
                self._lifeline.wait()
        if self._reader:
            self._reader.join(HANG_GUARD)
            with self.changed:
                self._stopping = True
            os.write(self._wake_write, b"!")
            self._reader.join()
        if self._lifeline:
            self._lifeline.stdout.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        shutil.rmtree(self.directory, ignore_errors=True)
        if survivors:
            raise AssertionError(f"{len(survivors)} process(es) in the terminal outlived its "
                                 f"hangup by {HANG_GUARD} s and were killed")

    def _program_descriptors(self):
        """pidfds of the launchers and programs still running, taken before the hangup."""
        pids = set()
        try:
            listing = self.run("list-panes", "-a", "-F", "#{pane_dead} #{pane_pid}")
            pids.update(int(pid) for dead, pid in
                        (line.split() for line in listing.splitlines()) if dead == "0")
        except (RuntimeError, AssertionError):
            pass  # no server
        with self.changed:
            pids.update(pane._program_pid for pane in self._panes
                        if pane._program_pid is not None and pane._exit_status is None)
        descriptors = []
        for pid in pids:
            try:
                descriptors.append(os.pidfd_open(pid))
            except ProcessLookupError:
                pass
        return descriptors


def _wait_for_exits(descriptors, timeout):
    """Of the pidfds, those whose process is still running after timeout."""
    running = list(descriptors)
    deadline = time.monotonic() + timeout
    while running:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ended = select.select(running, [], [], remaining)[0]
        running = [descriptor for descriptor in running if descriptor not in ended]
    return running
