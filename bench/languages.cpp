#include "languages.hpp"

#include "../tests/support/language_table.hpp"

#include <nlohmann/json.hpp>

namespace bench {

const std::vector<Language>& all_languages() {
    static const std::vector<Language> languages = [] {
        // drivers/registry.json with the tests' snippets merged in, which hold the benchmark's
        // own under "bench".
        std::vector<Language> all;
        for (const auto& entry : bond_tests::language_table()) {
            const nlohmann::json& own = entry.at("bench");
            Language language{
                .key = entry.at("key"),
                .bond_name = entry.at("name"),
                .floor_command = own.at("floor_command"),
                .floor_script = own.at("floor_script"),
                .alone_command = own.at("alone_command"),
                .idle_command = own.at("idle_command"),
                .idle_input = own.value("idle_input", ""),
                .version_command = entry.at("version_command"),
                .define_ident = entry.at("define_ident"),
                .object_with_ident = own.at("object_with_ident"),
                .first_call = own.at("first_call"),
                .callback_loop = own.at("callback_loop"),
                .json_module_code = own.at("json_module_code"),
            };
            all.push_back(language);
            nlohmann::json variants = own.value("variants", nlohmann::json::object());
            for (const auto& [key, environment] : variants.items()) {
                language.key = key;
                language.environment = environment;
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
