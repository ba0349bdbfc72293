#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace bench {
namespace {

// 61234.5 calls/s as "61,235"; MiB/s and ms with the digits that matter.
std::string format_value(const std::optional<double>& value, const std::string& unit) {
    if (!value || !std::isfinite(*value)) return "-";
    char text[64];
    if (unit == "calls/s") {
        auto whole = static_cast<long long>(std::llround(*value));
        std::string digits = std::to_string(whole), grouped;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
            grouped += digits[i];
        }
        return grouped;
    }
    std::snprintf(text, sizeof text, *value < 10 ? "%.2f" : "%.1f", *value);
    return text;
}

std::string format_ratio(const std::optional<double>& ratio) {
    if (!ratio) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", *ratio);
    return text;
}

std::string verdict(const Figure& figure) {
    if (figure.target.empty()) return "";
    if (!figure.met) return "?";
    return *figure.met ? "met" : "MISSED";
}

bond::Value optional_json(const std::optional<double>& value) {
    return value && std::isfinite(*value) ? bond::Value(*value) : bond::Value();
}

}  // namespace

void print_table(std::ostream& out, const LanguageResult& language) {
    out << "\n" << language.name << " " << language.version;
    if (language.key != language.name) out << " [" << language.key << "]";
    if (!language.json_module.empty()) out << ", " << language.json_module;
    out << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-28s %-8s %12s %12s %7s  %-18s %s\n", "figure", "unit",
                  "floor", "bond", "ratio", "target", "");
    out << line;
    for (const auto& figure : language.figures) {
        std::snprintf(
            line, sizeof line, "  %-28s %-8s %12s %12s %7s  %-18s %s\n", figure.title.c_str(),
            figure.unit.c_str(), format_value(figure.floor, figure.unit).c_str(),
            format_value(figure.value, figure.unit).c_str(), format_ratio(figure.ratio).c_str(),
            figure.target.c_str(), verdict(figure).c_str());
        out << line;
    }
    for (const auto& error : language.errors) out << "  not measured: " << error << "\n";
}

void print_summary(std::ostream& out, const std::vector<LanguageResult>& languages) {
    int met = 0, missed = 0;
    std::string missing;
    for (const auto& language : languages) {
        for (const auto& figure : language.figures) {
            if (!figure.met) continue;
            if (*figure.met) {
                ++met;
            } else {
                ++missed;
                missing += "\n  " + language.key + ": " + figure.title;
            }
        }
    }
    out << "\ntargets met: " << met << ", missed: " << missed << missing << "\n";
}

bond::Value to_json(const LanguageResult& language) {
    bond::Value figures = bond::Value::object();
    for (const auto& figure : language.figures) {
        figures[figure.key] = {
            {"title", figure.title},
            {"unit", figure.unit},
            {"floor", optional_json(figure.floor)},
            {"value", optional_json(figure.value)},
            {"ratio", optional_json(figure.ratio)},
            {"target", figure.target.empty() ? bond::Value() : bond::Value(figure.target)},
            {"met", figure.met ? bond::Value(*figure.met) : bond::Value()},
            {"details", figure.details}};
    }
    return {{"language", language.name},
            {"version", language.version},
            {"json_module", language.json_module},
            {"figures", figures},
            {"errors", language.errors}};
}

}  // namespace bench
