"""bond_client's asyncio API against a real bondd."""
import asyncio
import unittest

from daemon_fixture import Daemon, bond_client, peer_answering_garbage
from bond_client import AsyncClient, Interrupted, RemoteException


class AsyncApi(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()

    async def asyncSetUp(self):
        self.output = []
        self.client = await AsyncClient.connect(
            self.daemon.socket_path, on_output=lambda *args: self.output.append(args[1:]))

    async def asyncTearDown(self):
        await self.client.close()

    async def test_calls_and_output(self):
        async with await self.client.open("PHP") as php:
            await php.eval_block('function add($a, $b) { echo "adding\\n"; return $a + $b; }')
            self.assertEqual(await php.call("add", 1, 2), 3)
            self.assertEqual(await php.eval("add(2, 2)"), 4)
            explode = php.callable("explode")
            self.assertEqual(await explode(",", "a,b"), ["a", "b"])
            self.assertEqual(self.output, [("stdout", "adding\n")] * 2)

    async def test_concurrent_calls_on_several_bonds(self):
        bonds = [await self.client.open("Python") for _ in range(3)]
        results = await asyncio.gather(*(bond.call("pow", 2, index)
                                         for index, bond in enumerate(bonds)
                                         for _ in range(10)))
        self.assertEqual(results, [1] * 10 + [2] * 10 + [4] * 10)

    async def test_exported_functions_plain_and_async_nest(self):
        async with await self.client.open("JavaScript") as js:
            await js.export(lambda text: text.upper(), "upper")

            async def count_down(n):
                return 0 if n == 0 else await js.call("down", n - 1) + 1
            await js.export(count_down)
            await js.eval_block("globalThis.down = n => n == 0 ? 0 : count_down(n)")
            self.assertEqual(await js.eval("upper('x')"), "X")
            self.assertEqual(await js.call("down", 10), 10)

            async def fails():
                raise ValueError("no")
            await js.export(fails)
            with self.assertRaises(RemoteException) as raised:
                await js.eval("fails()")
            self.assertIn("ValueError: no", str(raised.exception))

    async def test_remote_objects(self):
        async with await self.client.open("Python") as python:
            await python.eval_block("class Tally:\n    def __init__(self):\n        self.n = 0\n"
                                    "    def add(self, k):\n        self.n += k\n"
                                    "        return self.n")
            tally = await python.eval("Tally()")
            self.assertIsInstance(tally, bond_client.AsyncRemoteObject)
            self.assertEqual(await tally.add(3), 3)
            self.assertEqual(await tally.n, 3)
            await tally.set_attribute("n", 10)
            self.assertEqual(await tally.call_method("add", 1), 11)
            self.assertTrue(await python.call("lambda a, b: a is b", tally, tally))

    async def test_cancelling_a_call_interrupts_the_remote_code(self):
        async with await self.client.open("Python") as python:
            looping = asyncio.Event()
            await python.export(looping.set, "looping")
            running = asyncio.ensure_future(python.eval_block("looping()\nwhile True:\n    pass"))
            await looping.wait()
            running.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await running
            self.assertEqual(await python.eval("1 + 1"), 2)

    async def test_interrupt(self):
        async with await self.client.open("Perl") as perl:
            looping = asyncio.Event()
            await perl.export(looping.set, "looping")
            running = asyncio.ensure_future(perl.eval_block("looping(); while (1) {}"))
            await looping.wait()
            await perl.interrupt()
            with self.assertRaises(Interrupted):
                await running

    async def test_a_daemon_that_goes_away_ends_every_wait(self):
        with Daemon() as daemon:
            client = await AsyncClient.connect(daemon.socket_path)
            python = await client.open("Python")
            await python.export(lambda: daemon.process.kill(), "kill_the_daemon")
            with self.assertRaises(bond_client.TerminatedException):
                await python.eval_block("kill_the_daemon()\nwhile True:\n    pass")
            await client.close()

    async def test_an_answer_that_is_not_json_closes_the_connection(self):
        with peer_answering_garbage() as path:
            output = []
            client = await AsyncClient.connect(path, on_output=lambda *args: output.append(args))
            with self.assertRaises(bond_client.ProtocolError) as raised:
                await client.drivers()
            self.assertIn("<html>not json</html>", str(raised.exception))
            self.assertEqual(output, [("b1", "stdout", "kept")])
            with self.assertRaises(bond_client.ProtocolError):
                await client.drivers()
            await client.close()

    async def test_a_private_daemon(self):
        async with await AsyncClient.connect(bondd=bond_client.find_bondd()) as client:
            perl = await client.open("Perl")
            self.assertEqual(await perl.eval("join ',', 1..3"), "1,2,3")


if __name__ == "__main__":
    unittest.main()
