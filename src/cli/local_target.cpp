#include "local_target.hpp"

#include "terminal_output.hpp"

namespace bond::cli {

LocalTarget::LocalTarget(const std::string& lang, Options options)
    : bond_(make_bond(lang, std::move(options))) {}

std::string LocalTarget::description() const {
    return bond_.version() + ", process " + std::to_string(bond_.pid());
}

std::string LocalTarget::eval_shown(const std::string& code) {
    Result result = bond_.eval_result(code);
    return result.objects.empty() ? value_as_json(result.value) : result.describe();
}

Value LocalTarget::call(const std::string& name, const Value& arguments) {
    detail::CallArguments converted;
    converted.values = arguments;
    return bond_.call_with(name, std::move(converted));
}

}  // namespace bond::cli
