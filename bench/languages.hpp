// The languages the benchmark measures, each with what it needs: how to start the bond, the
// floor loop and the interpreter alone, and the few lines of code the figures run remotely, all
// read from drivers/registry.json and the tests' table, tests/languages.json. A language is there
// once more for each of its "variants" there: Perl with the JSON module a default install picks
// (Cpanel::JSON::XS when it is installed) and with the core fallback JSON::PP (perl-pp,
// BOND_PERL_JSON=PP, honoured by the driver).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct Language {
    std::string key{};                                 // "python", "perl-pp": what --lang takes
    std::string bond_name{};                           // make_bond's name
    std::map<std::string, std::string> environment{};  // set for the bond, the floor, bondd
    std::vector<std::string> floor_command{};          // the interpreter; the script is appended
    std::string floor_script{};                        // in bench/floor/
    std::vector<std::string> alone_command{};          // the interpreter starting and doing nothing
    std::vector<std::string> idle_command{};     // the interpreter waiting on its stdin, once it
                                                 // has printed a line ending in "ready"
    std::string idle_input{};                    // written to its stdin first, if not empty
    std::vector<std::string> version_command{};  // prints its version
    std::string define_ident{};                  // eval_block: defines ident(x), returning x
    std::string object_with_ident{};  // an expression: an object whose method ident(x) returns x
    std::string first_call{};         // a built-in function of one number, for the first call
    std::string callback_loop{};      // eval_block: calls host_ident(i) COUNT times
    std::string json_module_code{};   // eval: the name of the JSON module the driver uses
};

const std::vector<Language>& all_languages();
// The code with every "COUNT" replaced by `count`.
std::string with_count(const std::string& code, std::size_t count);

}  // namespace bench
