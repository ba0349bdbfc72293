// Fuzz target: everything a co-process may send while a call waits for its reply. A hostile
// co-process (tests/faults/hostile_driver.cpp, "replay") writes the input as it is, then a
// proper reply: the host must survive whatever came before it — notifications, requests for its
// exports, replies, garbage — with at most a BondException that ends that bond.
#include <bond/bond.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace {

bond::Bond start() {
    bond::Bond bond = bond::make_bond(
        "Python", {.command = std::string(BOND_HOSTILE_DRIVER) + " replay",
                   .def_args = false,
                   .timeout = std::chrono::seconds(10),
                   .on_output = [](bond::Channel, std::string_view) {},
                   .max_message_size = 1 << 20});
    bond.export_function("add", [](int a, int b) { return a + b; });
    bond.export_function("raw", [](const bond::Value& args) { return args; });
    bond.export_function("fails", []() -> int { throw std::runtime_error("fails"); });
    return bond;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::optional<bond::Bond> bond;
    if (!bond || !bond->alive()) {
        bond.reset();
        bond.emplace(start());
    }
    std::vector<int> bytes(data, data + size);
    try {
        bond->call("replay", bytes);
    } catch (const bond::BondException&) {
        // A protocol error, a remote error, the end of the bond: all fine, none a crash.
    }
    return 0;
}
