#include "daemon_target.hpp"

#include "terminal_output.hpp"

#include <functional>

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

std::string DaemonTarget::eval_shown(const std::string& code) {
    Value value = on_bond("eval", {{"code", code}});
    Value handed_out = Value::array();
    // bondd hands each object out as {"$object": n, "type": T} (docs/daemon.md, Objects).
    std::function<std::string(const Value&)> text = [&](const Value& node) -> std::string {
        if (node.is_object() && node.contains("$object")) {
            handed_out.push_back(node["$object"]);
            return "<" + lang_ + " object " + node.value("type", std::string("?")) + " #" +
                   node["$object"].dump() + ">";
        }
        std::string out;
        if (node.is_array()) {
            for (const auto& element : node) out += (out.empty() ? "" : ",") + text(element);
            return "[" + out + "]";
        }
        if (node.is_object()) {
            for (auto it = node.begin(); it != node.end(); ++it)
                out += (out.empty() ? "" : ",") + value_as_json(it.key()) + ":" + text(it.value());
            return "{" + out + "}";
        }
        return value_as_json(node);
    };
    std::string shown = text(value);
    if (!handed_out.empty()) connection_.request("release", {{"objects", handed_out}});
    return shown;
}

void DaemonTarget::eval_block(const std::string& code, const std::string& file) {
    Value params = {{"code", code}};
    if (!file.empty()) params["file"] = file;
    on_bond("eval_block", params);
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
