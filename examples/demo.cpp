// A tour of bond: C++ and Python calling each other through eval, call, export and proxy.
#include <bond/bond.hpp>

#include <iostream>
#include <string>

int main() try {
    bond::Bond py = bond::make_bond("Python");
    std::cout << "Python " << py.eval("__import__('platform').python_version()").get<std::string>()
              << " is bonded.\n";

    // eval_block defines; call and callable call.
    py.eval_block("def add(a, b):\n    return a + b\n");
    std::cout << "add(1, 2) = " << py.call("add", 1, 2) << "\n";
    auto words = py.callable("str.split");
    std::cout << "str.split('migrate one function at a time') = "
              << words("migrate one function at a time") << "\n";
    auto typed_add = py.function<int(int, int)>("add");
    std::cout << "typed add(20, 22) = " << typed_add(20, 22) << "\n";

    // export: Python calls C++ as a native function, and C++ can call back into Python.
    py.export_function("twice", [](int x) { return 2 * x; });
    std::cout << "Python's twice(21) = " << py.eval("twice(21)") << "\n";
    py.export_function("shout", [&py](const std::string& text) {
        return py.call("str.upper", text).get<std::string>() + "!";
    });
    py.eval_block("print('Python says:', shout('hello from C++ via Python'))");

    // Errors of the other side are exceptions on this one.
    try {
        py.eval("1 / 0");
    } catch (const bond::RemoteException& error) {
        std::cout << "caught " << error.what() << "\n";
    }

    // proxy: a second interpreter calls the first one's function with no C++ written for it.
    bond::Bond other = bond::make_bond("Python");
    py.eval_block("def secret():\n    return 'a value only the first interpreter has'\n");
    py.proxy("secret", other, "ask_first");
    std::cout << "second interpreter: ask_first() = " << other.eval("ask_first()") << "\n";
    return 0;
} catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
}
