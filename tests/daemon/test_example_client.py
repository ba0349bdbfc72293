"""examples/clients/php_callback.py, the Python client of docs/daemon.md, against a real bondd."""
import os
import subprocess
import sys
import tempfile
import unittest

from bondd_harness import HANG_GUARD, Daemon

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "clients",
                       "php_callback.py")


class ExampleClient(unittest.TestCase):
    def test_the_python_example_opens_php_and_is_called_back(self):
        with Daemon() as daemon:
            result = subprocess.run([sys.executable, EXAMPLE, daemon.socket_path],
                                    capture_output=True, text=True, timeout=HANG_GUARD)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "PHP got: hello from python\nHELLO FROM PYTHON!\n")
            daemon.wait_for_log(r"bond b\d+ closed \(PHP")

    def test_the_example_finds_the_default_socket(self):
        with tempfile.TemporaryDirectory() as runtime:
            environment = dict(os.environ, XDG_RUNTIME_DIR=runtime)
            with Daemon(default_socket=True, env=environment):
                result = subprocess.run([sys.executable, EXAMPLE], env=environment,
                                        capture_output=True, text=True, timeout=HANG_GUARD)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("HELLO FROM PYTHON!", result.stdout)


if __name__ == "__main__":
    unittest.main()
