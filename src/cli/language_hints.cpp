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
                                  own.value("program_setter", ""),
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

bool starts_outside_code(const LanguageHints& hints, const std::string& input) {
    return hints.files_start_outside_code && input.rfind("<?php", 0) == 0;
}

InputKind classify_input(ReplTarget& target, const LanguageHints& hints, const std::string& source,
                         InputMode mode) {
    if (hints.incompleteness_check.empty()) return InputKind::Statements;
    Value arguments =
        Value::array({source, mode == InputMode::Expression ? "expression" : "statements"});
    try {
        Value answer = target.call(hints.incompleteness_check, arguments);
        double kind = answer.is_boolean()  ? answer.get<bool>()
                      : answer.is_number() ? answer.get<double>()
                                           : 0;
        return kind == 1                                    ? InputKind::Incomplete
               : kind == 2 && mode == InputMode::Statements ? InputKind::Expression
                                                            : InputKind::Statements;
    } catch (const Interrupted&) {
        throw;  // Ctrl+C while checking: the input is dropped, not run
    } catch (const RemoteException&) {
        return InputKind::Statements;  // a syntax error the check reports: complete, and wrong
    }
}

void set_program(ReplTarget& target, const LanguageHints& hints, const std::string& name,
                 const std::string& path, const std::vector<std::string>& arguments) {
    if (hints.program_setter.empty()) return;
    target.call(hints.program_setter, Value::array({name, path, arguments}));
}

}  // namespace bond::cli
