#include "method_dispatcher.hpp"

#include "daemon_log.hpp"
#include "named_params.hpp"
#include "open_request.hpp"
#include "rpc_error.hpp"

#include <bond/bond.hpp>

#include <map>
#include <string_view>

namespace bond::daemon {
namespace {

// Compares in time that does not depend on where the strings differ: a token is a secret.
bool same_secret(const std::string& given, const std::string& expected) {
    unsigned char difference = given.size() != expected.size();
    for (std::size_t i = 0; i < expected.size(); ++i)
        difference |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
    return difference == 0;
}

// {"$code": "code"} in a call's args, as on the driver's wire (docs/protocol.md, Values), or its
// older spelling {"$ref": "code"}: code evaluated by the bond, not a value.
const Value* reference_code(const Value& argument) {
    if (!argument.is_object() || argument.size() != 1) return nullptr;
    for (const char* key : {"$code", "$ref"}) {
        auto code = argument.find(key);
        if (code != argument.end() && code->is_string()) return &*code;
    }
    return nullptr;
}

// An operation's own `limits`, if the request has them; else none, which keeps the bond's.
bond::Limits operation_limits(const NamedParams& named) {
    if (auto limits = named.optional_object("limits")) return parse_limits(*limits);
    return {};
}

// What eval, eval_block and call run on their bond. Made once the bond has been looked up, so
// that errors in the params come in the same order on either path.
struct Prepared {
    HeldBond::Operation operation;
    bond::Limits limits;
};

// Where an operation's result goes: the objects in it handed out to the client that asked.
struct ResultFor {
    std::shared_ptr<ClientObjects> objects;
    std::string bond;
    Value operator()(bond::Result result) const {
        return objects->hand_out(bond, std::move(result));
    }
};

// eval's and eval_block's params; eval_block's may name the file its code is the text of.
NamedParams code_params(const Value& params, bool block) {
    if (block) return {params, {"bond", "code", "file", "limits"}};
    return {params, {"bond", "code", "limits"}};
}

Prepared code_operation(const NamedParams& named, bool block, ResultFor result_for) {
    std::string file = block ? named.optional_string("file").value_or("") : "";
    return {[code = named.string("code"), file, block, result_for](bond::Bond& remote,
                                                                   const bond::Limits& limits) {
                if (!block) return result_for(remote.with_limits(limits).eval_result(code));
                remote.with_limits(limits).eval_block(code, file);
                return Value();
            },
            operation_limits(named)};
}

// A call's args as the library takes them: code tags Refs of `remote`, object handles the
// client's objects.
detail::CallArguments call_arguments(Value args, bond::Bond& remote, const ResultFor& client) {
    detail::CallArguments arguments;
    for (auto& argument : args) {
        if (const Value* code = reference_code(argument))
            detail::append_argument(arguments, remote.ref(code->get<std::string>()));
        else
            client.objects->take_in(std::move(argument), arguments);
    }
    return arguments;
}

Prepared call_operation(const NamedParams& named, ResultFor result_for) {
    std::string name = named.string("name");
    Value args = named.optional_array("args").value_or(Value::array());
    return {[name, args = std::move(args), result_for](bond::Bond& remote,
                                                       const bond::Limits& limits) mutable {
                auto arguments = call_arguments(std::move(args), remote, result_for);
                return result_for(
                    remote.with_limits(limits).call_result_with(name, std::move(arguments)));
            },
            operation_limits(named)};
}

HeldBond::Completion answer(const Reply& reply) {
    return [reply](const Value& result, const std::exception_ptr& error) {
        reply.complete(result, error);
    };
}

}  // namespace

void MethodDispatcher::run_here(const Client& client, const detail::Message& request,
                                const Reply& reply, const std::shared_ptr<HeldBond>& bond,
                                ChainId chain) {
    try {
        Prepared prepared;
        ResultFor result_for{client->objects(), bond->id()};
        if (request.method == "call") {
            NamedParams named(request.params, {"bond", "name", "args", "limits"});
            named.string("bond");
            prepared = call_operation(named, std::move(result_for));
        } else {
            bool block = request.method == "eval_block";
            NamedParams named = code_params(request.params, block);
            named.string("bond");
            prepared = code_operation(named, block, std::move(result_for));
        }
        client->note_request_for(bond.get());
        bond->run_now(chain, client, std::move(prepared.operation), answer(reply), prepared.limits);
    } catch (...) {
        reply.fail(std::current_exception());
    }
}

void MethodDispatcher::dispatch(const Client& client, const detail::Message& request,
                                const Reply& reply) {
    using Method = void (MethodDispatcher::*)(const Client&, const Value&, const Reply&);
    static const std::map<std::string_view, Method> methods = {
        {"open", &MethodDispatcher::open},
        {"attach", &MethodDispatcher::attach},
        {"eval", &MethodDispatcher::eval},
        {"eval_block", &MethodDispatcher::eval_block},
        {"call", &MethodDispatcher::call},
        {"export", &MethodDispatcher::export_function},
        {"proxy", &MethodDispatcher::proxy},
        {"interrupt", &MethodDispatcher::interrupt},
        {"close", &MethodDispatcher::close},
        {"list", &MethodDispatcher::list},
        {"drivers", &MethodDispatcher::drivers},
        {"auth", &MethodDispatcher::auth},
        {"exports", &MethodDispatcher::exports},
        {"object_call", &MethodDispatcher::object_call},
        {"object_get", &MethodDispatcher::object_get},
        {"object_set", &MethodDispatcher::object_set},
        {"release", &MethodDispatcher::release},
    };
    try {
        if (client->needs_auth() && !client->authenticated() && request.method != "auth")
            throw bond_error(
                "this client has not authenticated: its first request must be auth {token}");
        auto method = methods.find(request.method);
        if (method == methods.end())
            throw RpcFailure(jsonrpc_error(detail::kMethodNotFound,
                                           "there is no method '" + request.method + "'"));
        (this->*method->second)(client, request.params, reply);
    } catch (...) {
        reply.fail(std::current_exception());
    }
}

void MethodDispatcher::client_left(const Client& client, const std::function<void()>& released) {
    registry_.release_all(*client, released);
}

void MethodDispatcher::run_on_bond(const Client& client, const std::shared_ptr<HeldBond>& bond,
                                   HeldBond::Operation operation, const Reply& reply,
                                   bond::Limits limits) {
    client->note_request_for(bond.get());
    bond->run(client->chain_for(bond->id()), client, std::move(operation), answer(reply), limits);
}

void MethodDispatcher::open(const Client& client, const Value& params, const Reply& reply) {
    registry_.open(client, parse_open_request(params),
                   [reply](const std::shared_ptr<HeldBond>& bond, const std::exception_ptr& error) {
                       if (error) return reply.fail(error);
                       reply.result({{"bond", bond->id()}, {"lang", bond->lang()}});
                   });
}

void MethodDispatcher::attach(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"name"});
    auto bond = registry_.attach(client, named.string("name"));
    reply.result({{"bond", bond->id()}, {"lang", bond->lang()}});
}

void MethodDispatcher::eval(const Client& client, const Value& params, const Reply& reply) {
    run_code(client, params, reply, /*block=*/false);
}

void MethodDispatcher::eval_block(const Client& client, const Value& params, const Reply& reply) {
    run_code(client, params, reply, /*block=*/true);
}

void MethodDispatcher::run_code(const Client& client, const Value& params, const Reply& reply,
                                bool block) {
    NamedParams named = code_params(params, block);
    auto bond = registry_.held_by(*client, named.string("bond"));
    Prepared prepared = code_operation(named, block, {client->objects(), bond->id()});
    run_on_bond(client, bond, std::move(prepared.operation), reply, prepared.limits);
}

void MethodDispatcher::call(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"bond", "name", "args", "limits"});
    auto bond = registry_.held_by(*client, named.string("bond"));
    Prepared prepared = call_operation(named, {client->objects(), bond->id()});
    run_on_bond(client, bond, std::move(prepared.operation), reply, prepared.limits);
}

void MethodDispatcher::object_call(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"object", "method", "args"});
    auto [held, bond] = held_object(client, named);
    auto method = named.optional_string("method");
    Value args = named.optional_array("args").value_or(Value::array());
    ResultFor result_for{client->objects(), held.bond};
    run_on_bond(
        client, bond,
        [held = std::move(held), method, args = std::move(args), result_for](
            bond::Bond& remote, const bond::Limits&) mutable {
            auto arguments = call_arguments(std::move(args), remote, result_for);
            return result_for(detail::result_of(
                detail::object_invoke(*detail::state_of(held.object), method ? &*method : nullptr,
                                      std::move(arguments), detail::Keep::Objects)));
        },
        reply);
}

void MethodDispatcher::object_get(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"object", "name"});
    auto [held, bond] = held_object(client, named);
    auto name = named.optional_string("name");
    ResultFor result_for{client->objects(), held.bond};
    run_on_bond(
        client, bond,
        [held = std::move(held), name, result_for](bond::Bond&, const bond::Limits&) {
            return result_for(detail::result_of(detail::object_get(
                *detail::state_of(held.object), name ? &*name : nullptr, detail::Keep::Objects)));
        },
        reply);
}

void MethodDispatcher::object_set(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"object", "name", "value"});
    auto [held, bond] = held_object(client, named);
    std::string name = named.string("name");
    Value value = named.optional_value("value").value_or(Value());
    ResultFor result_for{client->objects(), held.bond};
    run_on_bond(
        client, bond,
        [held = std::move(held), name, value = std::move(value), result_for](
            bond::Bond& remote, const bond::Limits&) mutable {
            auto arguments = call_arguments(Value::array({std::move(value)}), remote, result_for);
            detail::object_set(*detail::state_of(held.object), name, std::move(arguments));
            return Value();
        },
        reply);
}

std::pair<ClientObjects::Held, std::shared_ptr<HeldBond>> MethodDispatcher::held_object(
    const Client& client, const NamedParams& named) {
    auto held = client->objects()->find(named.value("object"));
    auto bond = registry_.held_by(*client, held.bond);
    return {std::move(held), std::move(bond)};
}

void MethodDispatcher::release(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"objects"});
    client->objects()->release(named.array("objects"));
    reply.result(nullptr);
}

void MethodDispatcher::interrupt(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"bond"});
    registry_.held_by(*client, named.string("bond"))->interrupt();
    reply.result(nullptr);
}

void MethodDispatcher::exports(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"bond"});
    auto bond = registry_.held_by(*client, named.string("bond"));
    // As for the operations: the code of an ended bond calls nothing any more, and its requests
    // get -32003.
    if (bond->ended()) throw TerminatedException(bond->lang(), "the bond has ended");
    reply.result(bond->exports());
}

void MethodDispatcher::export_function(const Client& client, const Value& params,
                                       const Reply& reply) {
    NamedParams named(params, {"bond", "name"});
    auto bond = registry_.held_by(*client, named.string("bond"));
    std::string name = named.string("name");
    export_into(client, bond, name, bond->client_function(client, name), reply);
}

void MethodDispatcher::proxy(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"bond", "name", "to", "remote"});
    auto source = registry_.held_by(*client, named.string("bond"));
    auto target = registry_.held_by(*client, named.string("to"));
    std::string name = named.string("name");
    std::string remote_name = named.optional_string("remote").value_or(name);
    export_into(client, target, remote_name, target->proxy_function(source, name), reply);
}

void MethodDispatcher::export_into(const Client& client, const std::shared_ptr<HeldBond>& bond,
                                   const std::string& name, detail::HostFunction function,
                                   const Reply& reply) {
    run_on_bond(
        client, bond,
        // The operation runs on the bond's own thread, which holds `bond` meanwhile.
        [name, function = std::move(function), held = bond.get()](bond::Bond& remote,
                                                                  const bond::Limits&) {
            remote.export_host(name, function);
            held->record_exports(remote);
            return Value();
        },
        reply);
}

void MethodDispatcher::close(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"bond"});
    std::string id = named.string("bond");
    registry_.release(*client, id, [reply] { reply.result(nullptr); });
    client->objects()->release_bond(id);
}

void MethodDispatcher::list(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {});
    reply.result(registry_.list(*client));
}

void MethodDispatcher::drivers(const Client&, const Value& params, const Reply& reply) {
    NamedParams named(params, {});
    reply.result(bond::list_drivers());
}

void MethodDispatcher::auth(const Client& client, const Value& params, const Reply& reply) {
    NamedParams named(params, {"token"});
    std::string token = named.string("token");
    if (!client->needs_auth())
        throw bond_error("auth is only used over TCP (--listen); this connection needs none");
    if (!same_secret(token, *token_)) {
        reply.error(bond_error("authentication failed: the token is wrong").error());
        log().warn("client {} ({}) presented a wrong token; disconnecting it", client->id(),
                   client->peer());
        return client->disconnect("was disconnected after a wrong token");
    }
    client->set_authenticated();
    log().info("client {} authenticated", client->id());
    reply.result(nullptr);
}

}  // namespace bond::daemon
