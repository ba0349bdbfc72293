// The one table of error codes (protocol/error_codes.hpp): each exception of the library crosses a
// wire as its error object and comes back as itself, and each code means what both docs say.
#include "protocol/error_codes.hpp"

#include <bond/errors.hpp>

#include <doctest/doctest.h>

#include <initializer_list>
#include <memory>
#include <typeinfo>
#include <vector>

using namespace bond::detail;
using bond::Value;

namespace {

// What throw_rpc_error threw for `error`.
std::exception_ptr thrown_for(const RpcError& error) {
    try {
        throw_rpc_error(error);
    } catch (...) {
        return std::current_exception();
    }
}

// Whether `back` is `original` again: its class and everything that class holds.
void check_same(const bond::BondException& original, const std::exception_ptr& back) {
    try {
        std::rethrow_exception(back);
    } catch (const bond::BondException& got) {
        CHECK(typeid(got) == typeid(original));
        CHECK(got.lang() == original.lang());
        CHECK(got.message() == original.message());
        CHECK(std::string(got.what()) == original.what());
        if (const auto* remote = dynamic_cast<const bond::RemoteException*>(&original))
            CHECK(dynamic_cast<const bond::RemoteException&>(got).data() == remote->data());
        if (const auto* serialization =
                dynamic_cast<const bond::SerializationException*>(&original))
            CHECK(dynamic_cast<const bond::SerializationException&>(got).side() ==
                  serialization->side());
        if (const auto* exceeded = dynamic_cast<const bond::LimitExceeded*>(&original))
            CHECK(dynamic_cast<const bond::LimitExceeded&>(got).limit() == exceeded->limit());
        if (const auto* terminated = dynamic_cast<const bond::TerminatedException*>(&original))
            CHECK(dynamic_cast<const bond::TerminatedException&>(got).exit_status() ==
                  terminated->exit_status());
    } catch (...) {
        FAIL("not a BondException");
    }
}

}  // namespace

TEST_CASE("every exception of the library survives exception -> error object -> exception") {
    std::vector<std::shared_ptr<bond::BondException>> originals = {
        std::make_shared<bond::BondException>("PHP", "no bond named 'b7'"),
        std::make_shared<bond::BondException>("", "not authenticated"),
        std::make_shared<bond::TerminatedException>("Perl", "the interpreter exited (status 1)"),
        std::make_shared<bond::TerminatedException>(
            "Python", "the interpreter exited with status 3 during a call", 3),
        std::make_shared<bond::TimeoutException>("JavaScript", "no reply within 100 ms"),
        std::make_shared<bond::SerializationException>("Python", "remote", "NaN is not JSON"),
        std::make_shared<bond::SerializationException>("Python", "local", "invalid UTF-8"),
        std::make_shared<bond::RemoteException>("Python", "ZeroDivisionError: division by zero",
                                                "ZeroDivisionError: division by zero"),
        std::make_shared<bond::RemoteException>(
            "Python", "ValueError: boom",
            Value{{"type", "ValueError"}, {"module", "builtins"}, {"args", {"boom"}}}),
        std::make_shared<bond::RemoteException>("PHP", "Exception: x", nullptr),
        std::make_shared<bond::Interrupted>("Perl", "the code was interrupted"),
        std::make_shared<bond::LimitExceeded>("Python", "wall", "the code ran too long"),
        std::make_shared<bond::LimitExceeded>("PHP", "memory", "the code used too much memory"),
        std::make_shared<bond::LimitExceeded>("Perl", "cpu", "the code used too much CPU time"),
        std::make_shared<bond::LimitExceeded>("JavaScript", "output", "too much output"),
    };
    for (const auto& original : originals) {
        CAPTURE(original->what());
        RpcError error = to_rpc_error(*original);
        CHECK(error.data["lang"] == original->lang());
        check_same(*original, thrown_for(error));
        // As it crosses a wire: the object encoded in a line and decoded again.
        Value wire = Value::parse(
            Value({{"code", error.code}, {"message", error.message}, {"data", error.data}}).dump());
        check_same(*original, thrown_for({wire["code"].get<int>(),
                                          wire["message"].get<std::string>(), wire["data"]}));
    }
}

TEST_CASE("each exception has the code and data the docs give it, the same on both wires") {
    auto error_of = [](const bond::BondException& error) { return to_rpc_error(error); };
    RpcError raised = error_of(bond::RemoteException("Python", "E: x", "E: x"));
    CHECK(raised.code == -32000);
    CHECK(raised.data == Value{{"type", "RemoteException"}, {"lang", "Python"}, {"data", "E: x"}});
    RpcError serialization = error_of(bond::SerializationException("PHP", "remote", "NaN"));
    CHECK(serialization.code == -32001);
    CHECK(serialization.data ==
          Value{{"type", "SerializationException"}, {"lang", "PHP"}, {"side", "remote"}});
    RpcError exceeded = error_of(bond::LimitExceeded("Perl", "cpu", "too long"));
    CHECK(exceeded.code == -32002);
    CHECK(exceeded.data == Value{{"type", "LimitExceeded"}, {"lang", "Perl"}, {"limit", "cpu"}});
    RpcError interrupted = error_of(bond::Interrupted("Perl", "interrupted"));
    CHECK(interrupted.code == -32002);
    CHECK(interrupted.data == Value{{"type", "Interrupted"}, {"lang", "Perl"}});
    RpcError terminated = error_of(bond::TerminatedException("PHP", "gone"));
    CHECK(terminated.code == -32003);
    CHECK(terminated.data == Value{{"type", "TerminatedException"}, {"lang", "PHP"}});
    CHECK(error_of(bond::TerminatedException("PHP", "exited", 3)).data ==
          Value{{"type", "TerminatedException"}, {"lang", "PHP"}, {"exit_status", 3}});
    CHECK(error_of(bond::TimeoutException("PHP", "slow")).code == -32004);
    CHECK(error_of(bond::BondException("PHP", "no")).code == -32005);
    CHECK(to_rpc_error(std::make_exception_ptr(std::runtime_error("bug"))).code == -32603);
    CHECK(to_rpc_error(std::make_exception_ptr(std::runtime_error("bug"))).data ==
          Value{{"type", "InternalError"}});
}

TEST_CASE("a driver's -32002 without a limit is Interrupted, and other codes are BondExceptions") {
    // The driver protocol's stop: data {type, limit: null}, no lang.
    CHECK_THROWS_AS(throw_rpc_error({kStopped, "stopped", {{"type", "X"}, {"limit", nullptr}}}),
                    bond::Interrupted);
    for (int code : std::initializer_list<int>{kParseError, kInvalidRequest, kMethodNotFound,
                                               kInvalidParams, kInternalError, -1, 42}) {
        CAPTURE(code);
        try {
            throw_rpc_error({code, "unknown method 'x'", {{"type", "X"}, {"lang", "PHP"}}});
        } catch (const bond::BondException& error) {
            CHECK(typeid(error) == typeid(bond::BondException));
            CHECK(error.lang() == "PHP");
            CHECK(error.message() ==
                  "unknown method 'x' (JSON-RPC error " + std::to_string(code) + ")");
        }
    }
}

TEST_CASE("whatever data a peer sends, the error still becomes an exception of its code") {
    for (const Value& data : {Value(), Value(7), Value("text"), Value::array(),
                              Value{{"lang", 3}, {"side", {1}}, {"limit", false}}}) {
        CAPTURE(data.dump());
        CHECK_THROWS_AS(throw_rpc_error({kRemoteException, "m", data}), bond::RemoteException);
        CHECK_THROWS_AS(throw_rpc_error({kSerializationException, "m", data}),
                        bond::SerializationException);
        CHECK_THROWS_AS(throw_rpc_error({kStopped, "m", data}), bond::Interrupted);
        CHECK_THROWS_AS(throw_rpc_error({kTerminatedException, "m", data}),
                        bond::TerminatedException);
    }
}
