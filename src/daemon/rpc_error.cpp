#include "rpc_error.hpp"

#include <bond/errors.hpp>

namespace bond::daemon {
namespace {

RpcError library_error(int code, const char* type, const BondException& error) {
    return {code, error.message(), {{"type", type}, {"lang", error.lang()}}};
}

}  // namespace

RpcFailure invalid_params(const std::string& message) {
    return RpcFailure({detail::kInvalidParams, message, {{"type", "InvalidParams"}}});
}

RpcFailure bond_error(const std::string& message, const std::string& lang) {
    return RpcFailure({kBondException, message, {{"type", "BondException"}, {"lang", lang}}});
}

RpcError describe_exception(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const RpcFailure& failure) {
        return failure.error();
    } catch (const LimitExceeded& exceeded) {
        RpcError described = library_error(kLimitExceeded, "LimitExceeded", exceeded);
        described.data["limit"] = exceeded.limit();
        return described;
    } catch (const Interrupted& interrupted) {
        return library_error(kInterrupted, "Interrupted", interrupted);
    } catch (const RemoteException& remote) {
        RpcError described = library_error(kRemoteException, "RemoteException", remote);
        described.data["data"] = remote.data();
        return described;
    } catch (const SerializationException& serialization) {
        RpcError described =
            library_error(kSerializationException, "SerializationException", serialization);
        described.data["side"] = serialization.side();
        return described;
    } catch (const TerminatedException& terminated) {
        return library_error(kTerminatedException, "TerminatedException", terminated);
    } catch (const TimeoutException& timeout) {
        return library_error(kTimeoutException, "TimeoutException", timeout);
    } catch (const BondException& other) {
        return library_error(kBondException, "BondException", other);
    } catch (const std::exception& unexpected) {
        return {kInternalError, unexpected.what(), {{"type", "InternalError"}}};
    } catch (...) {
        return {kInternalError, "a non-standard exception", {{"type", "InternalError"}}};
    }
}

}  // namespace bond::daemon
