"""The examples of the Python client run as a user runs them, and the package installed with
pip into a virtual environment of Debian's python3 (what clients/python/README.md says)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from daemon_fixture import (HANG_GUARD, PACKAGE_ROOT, REPOSITORY, Daemon,
                            environment_for_programs)

EXAMPLES = os.path.join(REPOSITORY, "examples", "clients")
EXPECTED = "['a', 'b', 'c']\nPHP greets python\nPYTHON!\n"


class Examples(unittest.TestCase):
    def run_example(self, *arguments, python=sys.executable, environment=None):
        result = subprocess.run([python, os.path.join(EXAMPLES, "python_client.py"), *arguments],
                                capture_output=True, text=True, timeout=HANG_GUARD,
                                env=environment or environment_for_programs())
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_with_a_private_daemon(self):
        self.assertEqual(self.run_example(), EXPECTED)

    def test_on_a_daemons_socket(self):
        with Daemon() as daemon:
            self.assertEqual(self.run_example(daemon.socket_path), EXPECTED)


class Installing(unittest.TestCase):
    def test_pip_install_into_a_virtual_environment(self):
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        with tempfile.TemporaryDirectory() as directory:
            environment = os.path.join(directory, "env")
            subprocess.run([python, "-m", "venv", environment], check=True, timeout=HANG_GUARD)
            # From a copy: pip must not need the source tree, nor the network.
            source = shutil.copytree(PACKAGE_ROOT, os.path.join(directory, "source"),
                                     ignore=shutil.ignore_patterns("tests", "__pycache__"))
            installed = subprocess.run(
                [os.path.join(environment, "bin", "pip"), "install", "--no-index",
                 "--disable-pip-version-check", source],
                capture_output=True, text=True, timeout=HANG_GUARD)
            self.assertEqual(installed.returncode, 0, installed.stdout + installed.stderr)
            variables = dict(os.environ, BONDD=environment_for_programs()["BONDD"])
            variables.pop("PYTHONPATH", None)
            self.assertEqual(self.run_installed(environment, variables), EXPECTED)

    def run_installed(self, environment, variables):
        result = subprocess.run([os.path.join(environment, "bin", "python"),
                                 os.path.join(EXAMPLES, "python_client.py")],
                                capture_output=True, text=True, timeout=HANG_GUARD,
                                env=variables, cwd="/")
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout


if __name__ == "__main__":
    unittest.main()
