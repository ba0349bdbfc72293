#include "rpc_error.hpp"

#include <bond/errors.hpp>

namespace bond::daemon {

RpcFailure invalid_params(const std::string& message) {
    return RpcFailure({detail::kInvalidParams, message, {{"type", "InvalidParams"}}});
}

RpcFailure bond_error(const std::string& message, const std::string& lang) {
    return RpcFailure(detail::to_rpc_error(BondException(lang, message)));
}

RpcError describe_exception(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const RpcFailure& failure) {
        return failure.error();
    } catch (...) {
        return detail::to_rpc_error(std::current_exception());
    }
}

}  // namespace bond::daemon
