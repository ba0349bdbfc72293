#include "languages.hpp"

namespace bench {

const std::vector<Language>& all_languages() {
    static const std::vector<Language> languages = [] {
        Language python{
            .key = "python",
            .bond_name = "Python",
            .floor_command = {"python3"},
            .floor_script = "python.py",
            .alone_command = {"python3", "-c", "pass"},
            .version_command = {"python3", "-c",
                                "import platform; print(platform.python_version())"},
            .define_ident = "def ident(x):\n    return x\n",
            .object_with_ident = "type('Echo', (), {'ident': lambda self, x: x})()",
            .first_call = "abs",
            .callback_loop = "for i in range(COUNT):\n    host_ident(i)\n",
            .json_module_code =
                "'json (C accelerated)' if __import__('json').decoder.c_scanstring "
                "else 'json (pure Python)'",
        };
        Language php{
            .key = "php",
            .bond_name = "PHP",
            .floor_command = {"php"},
            .floor_script = "php.php",
            .alone_command = {"php", "-r", ""},
            .version_command = {"php", "-r", "echo PHP_VERSION;"},
            .define_ident = "function ident($x) { return $x; }",
            .object_with_ident = "new class { public function ident($x) { return $x; } }",
            .first_call = "abs",
            .callback_loop = "for ($i = 0; $i < COUNT; $i++) host_ident($i);",
            .json_module_code = "'ext/json ' . phpversion('json')",
        };
        Language perl{
            .key = "perl",
            .bond_name = "Perl",
            .floor_command = {"perl"},
            .floor_script = "perl.pl",
            .alone_command = {"perl", "-e", "1"},
            .version_command = {"perl", "-e", "print substr($^V, 1)"},
            .define_ident = "sub ident { return $_[0] }",
            .object_with_ident = "do { package Echo; sub ident { return $_[1] } bless {}, 'Echo' }",
            .first_call = "abs",
            .callback_loop = "host_ident($_) for 1 .. COUNT;",
            .json_module_code = "$Bond::JSON_MODULE . ' ' . $Bond::JSON_MODULE->VERSION",
        };
        Language perl_pp = perl;
        perl_pp.key = "perl-pp";
        perl_pp.environment = {{"BOND_PERL_JSON", "PP"}};
        Language javascript{
            .key = "javascript",
            .bond_name = "JavaScript",
            .floor_command = {"node"},
            .floor_script = "javascript.js",
            .alone_command = {"node", "-e", "0"},
            .version_command = {"node", "-e", "process.stdout.write(process.versions.node)"},
            .define_ident = "function ident(x) { return x; }",
            .object_with_ident = "new (class Echo { ident(x) { return x; } })()",
            .first_call = "Math.abs",
            .callback_loop = "for (let i = 0; i < COUNT; i++) host_ident(i);",
            .json_module_code = "'V8 JSON ' + process.versions.v8",
        };
        return std::vector<Language>{python, php, perl, perl_pp, javascript};
    }();
    return languages;
}

std::string with_count(const std::string& code, std::size_t count) {
    std::string text = code;
    const std::string marker = "COUNT";
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at))
        text.replace(at, marker.size(), std::to_string(count));
    return text;
}

}  // namespace bench
