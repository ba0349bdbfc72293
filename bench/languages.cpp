#include "languages.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace bench {

const std::vector<Language>& all_languages() {
    static const std::vector<Language> languages = [] {
        // tests/languages.json: the tests' table of the languages' plain-text facts, which holds
        // the benchmark's own under "bench".
        std::ifstream file(BOND_LANGUAGES_JSON);
        if (!file) throw std::runtime_error("cannot read " BOND_LANGUAGES_JSON);
        nlohmann::json table = nlohmann::json::parse(file);
        std::vector<Language> all;
        for (const auto& entry : table.at("languages")) {
            const nlohmann::json& own = entry.at("bench");
            Language language{
                .key = entry.at("key"),
                .bond_name = entry.at("name"),
                .floor_command = own.at("floor_command"),
                .floor_script = own.at("floor_script"),
                .alone_command = own.at("alone_command"),
                .version_command = entry.at("version_command"),
                .define_ident = entry.at("define_ident"),
                .object_with_ident = own.at("object_with_ident"),
                .first_call = own.at("first_call"),
                .callback_loop = own.at("callback_loop"),
                .json_module_code = own.at("json_module_code"),
            };
            all.push_back(language);
            if (language.key == "perl") {
                language.key = "perl-pp";
                language.environment = {{"BOND_PERL_JSON", "PP"}};
                all.push_back(language);
            }
        }
        return all;
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
