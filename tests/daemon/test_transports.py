"""The daemon's transports: the Unix socket (where it is made, who may use it), TCP with its
token, and --stdio; and what it logs."""
import json
import os
import pwd
import socket
import stat
import subprocess
import tempfile
import unittest

from bondd_harness import (BONDD, HANG_GUARD, REGISTERED, Client, Daemon, RpcError, process_alive,
                           tcp_client)


class Tcp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="bondd-token-")
        cls.token_file = os.path.join(cls.scratch.name, "token")
        with open(cls.token_file, "w") as token:
            token.write("s3cret-token\n")
        os.chmod(cls.token_file, 0o600)
        cls.daemon = Daemon("--listen", "127.0.0.1:0", "--token-file", cls.token_file)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()
        cls.scratch.cleanup()

    def test_requests_before_auth_are_refused(self):
        with tcp_client(self.daemon) as client:
            with self.assertRaises(RpcError) as raised:
                client.request("drivers")
            self.assertEqual(raised.exception.code, -32005)
            self.assertIn("auth", raised.exception.message)
            with self.assertRaises(RpcError):
                client.request("open", lang="Python")
            self.assertIsNone(client.request("auth", token="s3cret-token"))
            self.assertEqual(len(client.request("drivers")), len(REGISTERED))
            bond = client.open()
            self.assertEqual(client.request("eval", bond=bond, code="40 + 2"), 42)

    def test_a_wrong_token_is_refused_and_the_connection_closed(self):
        with tcp_client(self.daemon) as client:
            with self.assertRaises(RpcError) as raised:
                client.request("auth", token="guess")
            self.assertEqual(raised.exception.code, -32005)
            with self.assertRaises((EOFError, ConnectionError)):
                client.request("auth", token="s3cret-token")

    def test_a_client_that_does_not_authenticate_in_time_is_disconnected(self):
        with Daemon("--listen", "127.0.0.1:0", "--token-file", self.token_file,
                    "--auth-timeout-ms", "100") as daemon:
            authenticated = tcp_client(daemon)
            authenticated.request("auth", token="s3cret-token")
            silent = tcp_client(daemon)  # its deadline passes after the first one's
            with self.assertRaises((EOFError, ConnectionError)):
                silent.read()  # the daemon closes the connection
            daemon.wait_for_log(r"did not authenticate within 100 ms")
            self.assertEqual(len(authenticated.request("drivers")), len(REGISTERED))
            authenticated.close()
            silent.close()

    def test_only_tcp_listens_when_only_listen_is_given(self):
        self.assertEqual([line.split()[0] for line in self.daemon.listeners], ["tcp"])

    def test_a_non_loopback_address_needs_allow_remote(self):
        result = subprocess.run([BONDD, "--listen", "0.0.0.0:0", "--token-file", self.token_file],
                                capture_output=True, text=True, timeout=HANG_GUARD)
        self.assertEqual(result.returncode, 1)
        self.assertIn("--allow-remote", result.stderr)
        result = subprocess.run([BONDD, "--listen", "127.0.0.1:0"], capture_output=True,
                                text=True, timeout=HANG_GUARD)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("token-file", result.stderr)


class UnixSocket(unittest.TestCase):
    def test_the_default_socket_is_private_to_the_user(self):
        with tempfile.TemporaryDirectory() as runtime:
            environment = dict(os.environ, XDG_RUNTIME_DIR=runtime)
            with Daemon(default_socket=True, env=environment) as daemon:
                path = os.path.join(runtime, "bond", "bondd.sock")
                self.assertEqual(daemon.listeners, ["unix " + path])
                self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
                self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
                with Client(path) as client:
                    self.assertEqual(len(client.request("drivers")), len(REGISTERED))
                # A second daemon on the same socket is refused.
                result = subprocess.run([BONDD], env=environment, capture_output=True,
                                        text=True, timeout=HANG_GUARD)
                self.assertEqual(result.returncode, 1)
                self.assertIn("another daemon is listening", result.stderr)
            self.assertFalse(os.path.exists(path))

    def test_a_stale_socket_is_replaced(self):
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, "stale.sock")
            dead = socket.socket(socket.AF_UNIX)
            dead.bind(path)
            dead.close()  # the file stays, nobody listens
            with Daemon("--socket", path) as daemon:
                with Client(path) as client:
                    self.assertEqual(len(client.request("drivers")), len(REGISTERED))


class PeerUid(unittest.TestCase):
    def as_nobody(self):
        """How to run a command as the user nobody: directly as root, else through sudo."""
        nobody = pwd.getpwnam("nobody")
        if os.geteuid() == 0:
            return [], {"user": nobody.pw_uid, "group": nobody.pw_gid}
        if subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            return ["sudo", "-n", "-u", "nobody"], {}
        self.skipTest("needs root or password-less sudo to connect as another user")

    def test_clients_of_another_uid_are_turned_away(self):
        prefix, user = self.as_nobody()
        with Daemon() as daemon:
            os.chmod(daemon.directory.name, 0o755)
            os.chmod(daemon.socket_path, 0o666)  # the kernel lets nobody through; bondd may not
            script = ("import socket, sys\n"
                      "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                      "try:\n"
                      "    s.sendall(b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"drivers\"}\\n')\n"
                      "    print(repr(s.recv(1000)))\n"
                      "except (ConnectionResetError, BrokenPipeError):\n"
                      "    print(repr(b''))\n")
            result = subprocess.run(prefix + ["python3", "-c", script, daemon.socket_path],
                                    capture_output=True, text=True, timeout=HANG_GUARD, **user)
            self.assertEqual(result.stdout.strip(), "b''", result.stderr)  # closed, unanswered
            daemon.wait_for_log(r"refused a client of uid %d" % pwd.getpwnam("nobody").pw_uid)


class Stdio(unittest.TestCase):
    def test_one_client_on_stdin_and_stdout_answered_to_the_end(self):
        process = subprocess.Popen([BONDD, "--stdio", "--log-level", "warn"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        requests = [
            {"jsonrpc": "2.0", "id": 1, "method": "open", "params": {"lang": "Python"}},
            {"jsonrpc": "2.0", "id": 2, "method": "eval_block",
             "params": {"bond": "b1", "code": "print('to the client'); import os; pid = os.getpid()"}},
            {"jsonrpc": "2.0", "id": 3, "method": "eval", "params": {"bond": "b1", "code": "pid"}},
            {"jsonrpc": "2.0", "id": 4, "method": "eval",
             "params": {"bond": "b1", "code": "__import__('time').sleep(0.3) or 'last'"}},
        ]
        stdin = "".join(json.dumps(request) + "\n" for request in requests).encode()
        stdout, stderr = process.communicate(stdin, timeout=HANG_GUARD)  # stdin ends here
        self.assertEqual(process.returncode, 0, stderr)
        messages = [json.loads(line) for line in stdout.splitlines()]
        self.assertEqual(messages[0]["result"], {"bond": "b1", "lang": "Python"})
        self.assertEqual(messages[1]["method"], "output")
        self.assertEqual(messages[1]["params"]["data"], "to the client\n")
        self.assertEqual([m.get("id") for m in messages[2:]], [2, 3, 4])
        self.assertEqual(messages[-1]["result"], "last")
        self.assertFalse(process_alive(messages[3]["result"]))


    def test_stdin_and_stdout_may_be_files(self):
        with tempfile.TemporaryDirectory() as scratch:
            requests, answers = os.path.join(scratch, "in"), os.path.join(scratch, "out")
            with open(requests, "w") as file:
                file.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "open",
                                       "params": {"lang": "perl"}}) + "\n")
                file.write(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "eval",
                                       "params": {"bond": "b1", "code": "6 * 7"}}) + "\n")
            with open(requests) as stdin, open(answers, "w") as stdout:
                status = subprocess.run([BONDD, "--stdio", "--log-level", "off"], stdin=stdin,
                                        stdout=stdout, timeout=HANG_GUARD).returncode
            self.assertEqual(status, 0)
            with open(answers) as file:
                replies = [json.loads(line) for line in file]
            self.assertEqual([reply["result"] for reply in replies],
                             [{"bond": "b1", "lang": "Perl"}, 42])

    def test_requests_behind_an_open_that_fails_fail_with_its_reason(self):
        requests = [
            {"jsonrpc": "2.0", "id": 1, "method": "open",
             "params": {"lang": "Python", "command": "no-such-interpreter"}},
            {"jsonrpc": "2.0", "id": 2, "method": "eval", "params": {"bond": "b1", "code": "1"}},
        ]
        result = subprocess.run([BONDD, "--stdio", "--log-level", "off"],
                                input="".join(json.dumps(r) + "\n" for r in requests),
                                capture_output=True, text=True, timeout=HANG_GUARD)
        self.assertEqual(result.returncode, 0, result.stderr)
        replies = {m["id"]: m for m in map(json.loads, result.stdout.splitlines())}
        for id in (1, 2):
            self.assertEqual(replies[id]["error"]["code"], -32005)
            self.assertIn("not in PATH", replies[id]["error"]["message"])


class Logging(unittest.TestCase):
    def test_one_line_per_connection_and_bond_event_and_no_payloads(self):
        with Daemon("--log-level", "info") as daemon:
            with daemon.connect() as client:
                bond = client.open()
                client.request("eval", bond=bond, code="'payload-marker'")
                client.request("close", bond=bond)
                client.finish()
            for event in [r"client \d+ connected", r"bond b\d+ opened for client \d+: Python, pid \d+",
                          r"bond b\d+ closed", r"client \d+ closed its input"]:
                daemon.wait_for_log(event)
            log = daemon.log()
            self.assertNotIn("payload-marker", log)
            self.assertNotIn("[debug]", log)

    def test_log_traffic_shows_the_messages(self):
        with Daemon("--log-level", "info", "--log-traffic") as daemon:
            with daemon.connect() as client:
                bond = client.open()
                client.request("eval", bond=bond, code="'payload-marker'")
            daemon.wait_for_log("payload-marker", count=2)  # in and out


if __name__ == "__main__":
    unittest.main()
