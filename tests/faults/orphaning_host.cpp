// A host that dies: makes a bond of LANG, runs CODE in it (code that leaves work behind, a
// thread or a timer), prints the interpreter's pid and waits to be killed. The fault tests kill
// it and watch the interpreter end by itself. Usage: orphaning_host LANG CODE
#include <bond/bond.hpp>

#include <iostream>

#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    bond::Bond remote = bond::make_bond(argv[1]);
    remote.eval_block(argv[2]);
    std::cout << remote.pid() << std::endl;
    for (;;) ::pause();
}
