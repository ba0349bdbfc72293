#include "daemon_target.hpp"

namespace bond::cli {

DaemonTarget::DaemonTarget(const std::filesystem::path& socket, const std::string& name,
                           DaemonConnection::OutputHandler on_output)
    : socket_(socket), name_(name), connection_(socket, std::move(on_output)) {
    Value attached = connection_.request("attach", {{"name", name}});
    bond_ = attached.at("bond").get<std::string>();
    lang_ = attached.at("lang").get<std::string>();
}

std::string DaemonTarget::description() const {
    return "bond '" + name_ + "' held by bondd at " + socket_.string();
}

Value DaemonTarget::on_bond(const std::string& method, Value params) {
    params["bond"] = bond_;
    try {
        return connection_.request(method, params);
    } catch (const TerminatedException&) {
        ended_ = true;
        throw;
    } catch (const TimeoutException&) {
        ended_ = true;  // the daemon closed the bond
        throw;
    }
}

Result DaemonTarget::eval(const std::string& code) {
    return {on_bond("eval", {{"code", code}}), {}};  // bondd hands out no objects yet
}

void DaemonTarget::eval_block(const std::string& code) {
    on_bond("eval_block", {{"code", code}});
}

Value DaemonTarget::call(const std::string& name, const Value& arguments) {
    return on_bond("call", {{"name", name}, {"args", arguments}});
}

std::vector<std::string> DaemonTarget::exports() {
    return on_bond("exports", Value::object()).get<std::vector<std::string>>();
}

void DaemonTarget::interrupt() {
    connection_.send_without_waiting("interrupt", {{"bond", bond_}});
}

bool DaemonTarget::alive() const {
    return !ended_ && connection_.connected();
}

void DaemonTarget::close() {
    if (!alive()) return;
    try {
        on_bond("close", Value::object());
    } catch (const BondException&) {
        // Already gone: nothing is left to let go of.
    }
    ended_ = true;
}

}  // namespace bond::cli
