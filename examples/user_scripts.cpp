// The web-application case: users paste Python scripts that compute a `cost` from a `price`,
// using functions the application exposes. Each script runs in the sandbox under wall, CPU and
// memory limits; whatever it does, the application answers its owner with a message fit to send.
// `user_scripts pyodide` runs them in Pyodide (Python in WebAssembly, docs/security.md) instead:
// no host files or processes, with no sandbox to set up (no bwrap, no namespaces); its CPU and
// memory limits are cooperative, the wall limit is the hard stop (docs/security.md).
#include <bond/bond.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

using namespace std::chrono_literals;

namespace {

// What the application would email to the script's owner.
std::string run_user_script(const std::string& language, const std::string& script, double price) {
    bond::Options options{
        .on_output = [](bond::Channel, std::string_view) {},  // users' prints dropped
        .limits = {.wall = 2s, .cpu = 1s, .memory = 64 << 20, .output = 64 << 10}};
    if (language == "Python") options.sandbox = bond::Sandbox{};
    bond::Bond python = bond::make_bond(language, std::move(options));
    // The only way out of the sandbox: what the application exports.
    python.export_function("tax_rate", [] { return 0.2; });
    python.export_function("shipping", [](double amount) { return amount > 100 ? 0.0 : 4.5; });
    try {
        python.eval_block(script);
        double cost = python.call("cost", price).get<double>();
        return "Your script computed a cost of " + std::to_string(cost) + ".";
    } catch (const bond::LimitExceeded& error) {
        return "Your script was stopped (" + error.limit() + " limit): " + error.message() + ".";
    } catch (const bond::RemoteException& error) {
        return "Your script failed: " + error.message();
    } catch (const bond::BondException& error) {
        return "Your script could not be run: " + error.message();
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string language = argc > 1 && std::string(argv[1]) == "pyodide" ? "Pyodide" : "Python";
    // A file of the application's that no script may read.
    auto secret = std::filesystem::temp_directory_path() / "bond-shop-secrets.conf";
    std::ofstream(secret) << "discount=0.5\n";
    struct Case {
        std::string name;
        std::string script;
    } cases[] = {
        {"well-behaved",
         "def cost(price):\n"
         "    return price * (1 + tax_rate()) + shipping(price)\n"},
        {"infinite loop",
         "def cost(price):\n"
         "    while True:\n"
         "        price += 1\n"},
        {"memory bomb",
         "def cost(price):\n"
         "    hoard = []\n"
         "    while True:\n"
         "        hoard.append(bytearray(1 << 20))\n"},
        {"reads a file",
         "def cost(price):\n"
         "    return len(open('" +
             secret.string() + "').read())\n"},
    };
    for (const auto& each : cases)
        std::cout << each.name << ": " << run_user_script(language, each.script, 50.0) << "\n";
    std::filesystem::remove(secret);
}
