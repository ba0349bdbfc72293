#include "local_target.hpp"

namespace bond::cli {

LocalTarget::LocalTarget(const std::string& lang, Options options)
    : bond_(make_bond(lang, std::move(options))) {}

std::string LocalTarget::description() const {
    return bond_.version() + ", process " + std::to_string(bond_.pid());
}

Value LocalTarget::call(const std::string& name, const Value& arguments) {
    detail::CallArguments converted;
    converted.values = arguments;
    return bond_.call_with(name, std::move(converted));
}

}  // namespace bond::cli
