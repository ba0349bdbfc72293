#include "language_hints.hpp"

#include "bond/driver_registry.hpp"
#include "repl_target.hpp"

#include <map>

namespace bond::cli {

// From the language's entry of drivers/registry.json ("hints"), whose notes say why each is so.
const LanguageHints& hints_for(std::string_view lang) {
    static const std::map<std::string, LanguageHints, std::less<>> known = [] {
        std::map<std::string, LanguageHints, std::less<>> hints;
        for (const auto& driver : detail::all_drivers()) {
            Value own = driver.entry.value("hints", Value::object());
            hints[driver.name] = {own.value("incompleteness_check", ""),
                                  own.value("backslash_continues_lines", false),
                                  own.value("files_start_outside_code", false)};
        }
        return hints;
    }();
    static const LanguageHints none;
    auto found = known.find(lang);
    return found == known.end() ? none : found->second;
}

std::string file_as_block(const LanguageHints& hints, std::string text) {
    if (hints.files_start_outside_code) text.insert(0, "?>");
    return text;
}

bool input_is_incomplete(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode) {
    if (hints.incompleteness_check.empty()) return false;
    Value arguments =
        Value::array({source, mode == InputMode::Expression ? "expression" : "statements"});
    try {
        Value answer = target.call(hints.incompleteness_check, arguments);
        return answer.is_boolean() ? answer.get<bool>()
                                   : answer.is_number() && answer.get<double>() != 0;
    } catch (const Interrupted&) {
        throw;  // Ctrl+C while checking: the input is dropped, not run
    } catch (const RemoteException&) {
        return false;  // a syntax error the check reports: the input is complete, and wrong
    }
}

}  // namespace bond::cli
