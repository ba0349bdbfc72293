"""Bonds and clients coming and going: two clients sharing a named bond, disconnects (also in
the middle of a call), a client that only shuts down its sending side, and SIGTERM."""
import os
import signal
import socket
import unittest

from bondd_harness import Daemon, RpcError, process_alive, wait_exited

PID = "__import__('os').getpid()"


class Sharing(unittest.TestCase):
    def test_two_clients_share_a_named_bond(self):
        with Daemon() as daemon, daemon.connect() as first, daemon.connect() as second:
            bond = first.open(name="workspace")
            first.request("eval_block", bond=bond, code="counter = 1")
            attached = second.request("attach", name="workspace")
            self.assertEqual(attached, {"bond": bond, "lang": "Python"})
            self.assertEqual(second.request("eval", bond=bond, code="counter"), 1)
            second.request("eval_block", bond=bond, code="counter += 1")
            self.assertEqual(first.request("eval", bond=bond, code="counter"), 2)
            entry = [e for e in second.request("list") if e["bond"] == bond][0]
            self.assertEqual((entry["clients"], entry["held"]), (2, True))
            # An export belongs to the client that made it: invoke goes there.
            first.exports["whose"] = lambda bond_id: "first's"
            first.request("export", bond=bond, name="whose")
            second.send({"jsonrpc": "2.0", "id": 99, "method": "eval",
                         "params": {"bond": bond, "code": "whose()"}})
            message = first.read()
            self.assertEqual(message["method"], "invoke")
            first.answer_invoke(message)
            self.assertEqual(second.wait_reply(99)["result"], "first's")

            pid = second.request("eval", bond=bond, code=PID)
            first.finish()  # the first client goes: the bond stays for the second
            self.assertTrue(process_alive(pid))
            self.assertEqual(second.request("eval", bond=bond, code="counter"), 2)
            with self.assertRaises(RpcError):  # the export's client is gone
                second.request("eval", bond=bond, code="whose()")
            # The last holder closing it ends it.
            second.request("close", bond=bond)
            self.assertFalse(process_alive(pid))
            with self.assertRaises(RpcError):
                second.request("attach", name="workspace")

    def test_closing_a_shared_bond_lets_go_of_it_only(self):
        with Daemon() as daemon, daemon.connect() as first, daemon.connect() as second:
            bond = first.open(name="kept")
            second.request("attach", name="kept")
            pid = first.request("eval", bond=bond, code=PID)
            first.request("close", bond=bond)
            self.assertTrue(process_alive(pid))
            with self.assertRaises(RpcError):
                first.request("eval", bond=bond, code="1")
            self.assertEqual(second.request("eval", bond=bond, code="1"), 1)
            second.finish()
            self.assertTrue(wait_exited(pid))


class Disconnects(unittest.TestCase):
    def test_a_disconnect_mid_call_ends_that_clients_bonds_only(self):
        with Daemon() as daemon, daemon.connect() as staying:
            kept = staying.open()
            leaving = daemon.connect()
            busy = leaving.open()
            idle = leaving.open()
            pids = [leaving.request("eval", bond=bond, code=PID) for bond in (busy, idle)]
            leaving.send({"jsonrpc": "2.0", "id": 1, "method": "eval_block",
                          "params": {"bond": busy, "code": "print('running', flush=True)\n"
                                                           "__import__('time').sleep(600)"}})
            self.assertEqual(leaving.read()["params"]["data"], "running\n")  # it runs: vanish
            self.assertEqual(staying.request("eval", bond=kept, code="'unaffected'"), "unaffected")
            leaving.close()
            for pid in pids:
                self.assertTrue(wait_exited(pid), f"interpreter {pid} outlived its client")
            self.assertEqual(staying.request("eval", bond=kept, code="'still here'"), "still here")

    def test_a_disconnect_while_the_daemon_waits_for_invoke(self):
        with Daemon() as daemon:
            leaving = daemon.connect()
            bond = leaving.open()
            pid = leaving.request("eval", bond=bond, code=PID)
            leaving.request("export", bond=bond, name="never_answered")
            leaving.send({"jsonrpc": "2.0", "id": 1, "method": "eval",
                          "params": {"bond": bond, "code": "never_answered()"}})
            self.assertEqual(leaving.read()["method"], "invoke")  # the daemon waits for us
            leaving.close()
            self.assertTrue(wait_exited(pid))

    def test_a_client_that_shuts_down_sending_gets_every_answer(self):
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            pid = client.request("eval", bond=bond, code=PID)
            for i in range(1, 4):
                client.send({"jsonrpc": "2.0", "id": i + 10, "method": "eval",
                             "params": {"bond": bond, "code": f"__import__('time').sleep(0.2) or {i}"}})
            rest = client.finish()  # shut down sending, read to the end
            self.assertEqual([(m["id"], m["result"]) for m in rest], [(11, 1), (12, 2), (13, 3)])
            self.assertFalse(process_alive(pid))  # released before the daemon closed the socket

    def test_a_large_answer_after_the_client_shut_down_sending_arrives_whole(self):
        # Most of it waits in the daemon for the socket after the client's last request is
        # answered, and the daemon has let go of the client: it is still written, to the end.
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            client.send({"jsonrpc": "2.0", "id": 7, "method": "eval",
                         "params": {"bond": bond, "code": "'x' * (8 << 20)"}})
            rest = client.finish()
            self.assertEqual([m["id"] for m in rest], [7])
            self.assertEqual(len(rest[0]["result"]), 8 << 20)

    def test_invoke_to_a_client_that_shut_down_sending_fails_in_the_remote_code(self):
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            client.request("export", bond=bond, name="cb")
            client.send({"jsonrpc": "2.0", "id": 5, "method": "eval",
                         "params": {"bond": bond, "code": "cb()"}})
            self.assertEqual(client.read()["method"], "invoke")
            rest = client.finish()
            self.assertEqual(len(rest), 1)
            self.assertEqual(rest[0]["error"]["code"], -32000)
            self.assertIn("closed its input", rest[0]["error"]["message"])


class Shutdown(unittest.TestCase):
    def test_sigterm_closes_every_bond_and_removes_the_socket(self):
        daemon = Daemon("--pool", "python=1", "--pool", "php=1")
        try:
            daemon.wait_for_log(r"warm pool: a \w+ interpreter is ready", count=2)
            first = daemon.connect()
            second = daemon.connect()
            idle = first.open("PHP")
            busy = first.open("Perl")
            named = second.open("JavaScript", name="long-lived")
            waiting = second.open()
            first.send({"jsonrpc": "2.0", "id": 1, "method": "eval",
                        "params": {"bond": busy, "code": "sleep 600"}})
            # Something the remote code started goes with it too.
            background = second.request(
                "eval", bond=waiting, code="__import__('subprocess').Popen(['sleep', '600']).pid")
            second.request("export", bond=waiting, name="cb")
            second.send({"jsonrpc": "2.0", "id": 2, "method": "eval",
                         "params": {"bond": waiting, "code": "cb()"}})
            self.assertEqual(second.read()["method"], "invoke")
            # The two taken from the pool have been replaced.
            daemon.wait_for_log(r"warm pool: a \w+ interpreter is ready", count=4)
            interpreters = daemon.children()
            self.assertEqual(len(interpreters), 6)  # four opened, two in the pool
            self.assertEqual(daemon.terminate(signal.SIGTERM), 0)
            for pid in interpreters:
                self.assertFalse(process_alive(pid), f"interpreter {pid} outlived the daemon")
            self.assertTrue(wait_exited(background), "a process the remote code started lived on")
            self.assertFalse(os.path.exists(daemon.socket_path))
            self.assertIn("shutting down (SIGTERM)", daemon.log())
            for client in (first, second):
                with self.assertRaises((EOFError, ConnectionError)):
                    while True:  # what was still sent, then the end
                        client.read()
                client.close()
        finally:
            daemon.close()

    def test_sigint_too(self):
        with Daemon() as daemon:
            client = daemon.connect()
            bond = client.open()
            pid = client.request("eval", bond=bond, code=PID)
            self.assertEqual(daemon.terminate(signal.SIGINT), 0)
            self.assertFalse(process_alive(pid))
            client.close()


if __name__ == "__main__":
    unittest.main()
