"""The `bond` module: python-bond 1.4's API on bondd, used as programs written for it use it."""
import os
import subprocess
import sys
import tempfile
import unittest

from daemon_fixture import HANG_GUARD, LANGUAGE_NAMES, REPOSITORY, environment_for_programs

LEGACY_PROGRAM = os.path.join(REPOSITORY, "examples", "clients", "legacy_python_bond.py")


def run_program(source_or_path, stdin=""):
    """Runs a program (a path, or its source) as the earlier host's users ran theirs."""
    command = [sys.executable, source_or_path] if os.path.exists(source_or_path) else \
        [sys.executable, "-c", source_or_path]
    return subprocess.run(command, input=stdin, capture_output=True, text=True,
                          env=environment_for_programs(), timeout=HANG_GUARD)


class LegacyPrograms(unittest.TestCase):
    def test_the_documented_overview_runs_unchanged(self):
        result = run_program(LEGACY_PROGRAM)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Hello world!\n"
                         "['Hello', 'world', 'splitted', 'by', 'PHP!']\n"
                         "Hi, this is Python talking!\n"
                         "['Mind', 'blown!']\n"
                         "Python raised ZeroDivisionError('division by zero')\n")

    def test_quoted_expressions_and_migration(self):
        with tempfile.TemporaryDirectory() as directory:
            result = run_program(f"""
import bond, sys
pl = bond.make_bond('Perl')
pl.eval_block('open($fd, ">{directory}/file.txt");')
fd = pl.ref('$fd')
pl.call('syswrite', fd, "Hello world!")
pl.call('close', fd)
print(open('{directory}/file.txt').read())
print(pl.call('map {{ $_ + 1 }}', 1, 2))
php = bond.make_bond('PHP')
php.eval_block('function main($argv) {{ return function_to_be_replaced($argv[0]); }}')
def new_function(arg):
    return arg * 2
php.export(new_function, 'function_to_be_replaced')
print(php.call('main', ['ab']))
print(sorted(bond.list_drivers()))
js = bond.make_bond('JavaScript', trans_except=False)
try:
    js.eval('null.x')
except bond.RemoteException as error:
    print(type(error.data).__name__, isinstance(error, RuntimeError))
""")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "Hello world!\n[2, 3]\nabab\n"
                         f"{sorted(LANGUAGE_NAMES)}\nstr True\n")

    def test_make_bond_options(self):
        with tempfile.TemporaryDirectory() as directory:
            result = run_program(f"""
import bond, io, os
py = bond.make_bond('Python', 'python3', ['-X', 'utf8'], cwd={directory!r},
                    env={{'GREETING': 'hi', 'PATH': os.environ['PATH']}}, def_args=True,
                    timeout=30, protocol='JSON')
print(py.eval("__import__('os').environ['GREETING']"), py.eval("__import__('os').getcwd()"))
try:
    py.eval("undefined_name")
except bond.RemoteException as error:
    print(type(error.data).__name__)
try:
    bond.make_bond('Python', protocol='PICKLE')
except bond.BondException as error:
    print("refused:", error)
log = io.StringIO()
logged = bond.make_bond('PHP', logfile=log)
logged.eval('1 + 1')
print('"method":"eval"' in log.getvalue(), '"result":2' in log.getvalue())
py.close()
try:
    py.eval('1')
except bond.BondException as error:
    print(type(error).__name__)
""")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), [
            f"hi {os.path.realpath(directory)}", "NameError",
            "refused: the protocol PICKLE is not supported: bonds speak JSON only",
            "True True", "BondException"])

    def test_interact(self):
        result = run_program("import bond; bond.make_bond('PHP').interact()",
                             stdin='$x = 6;\n!$x * 7\nfunction f() {\\\n return "multi"; }\n'
                                   '!f()\n!1/0\n!"still here"\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = [line.split("> ")[-1] for line in result.stdout.splitlines()]
        self.assertIn("42", printed)
        self.assertIn("multi", printed)
        self.assertTrue(any(line.startswith("RemoteException: DivisionByZeroError")
                            for line in printed), result.stdout)
        self.assertIn("still here", printed)


if __name__ == "__main__":
    unittest.main()
