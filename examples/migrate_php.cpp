// Migrating a legacy PHP application one function at a time: price_with_tax() of
// legacy/pricing.php becomes C++, exported into PHP under its old name, and the rest of the PHP
// code (legacy/invoice.php) keeps calling it as before. Both versions run side by side here and
// must print the same invoice. Then a legacy class (legacy/cart.php) is used from C++ through its
// methods, its object staying in PHP, and handed callbacks written in C++ and in Python.
//   migrate_php [LEGACY_DIR]   (default: the examples' legacy/ directory)
#include <bond/bond.hpp>

#include <iostream>
#include <map>
#include <string>

#ifndef BOND_LEGACY_DIR
#define BOND_LEGACY_DIR "legacy"
#endif

namespace {

// The C++ implementation of legacy/pricing.php's price_with_tax(), rule for rule.
long price_with_tax(long net_cents, const std::string& country) {
    static const std::map<std::string, long> rates = {{"DE", 19}, {"FR", 20}, {"LU", 17}};
    auto rate = rates.find(country);
    long percent = rate == rates.end() ? 0 : rate->second;
    return (net_cents * (100 + percent) + 50) / 100;
}

// A PHP single-quoted string literal: only \\ and \' are escapes there.
std::string php_string(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\\' || c == '\'') quoted += '\\';
        quoted += c;
    }
    return quoted + "'";
}

// A PHP bond with the application loaded from `files` of `directory`.
bond::Bond load_application(const std::string& directory, std::initializer_list<const char*> files,
                            bool cpp_pricing) {
    bond::Bond php = bond::make_bond("PHP");
    // Exported before the PHP files are loaded: their code finds price_with_tax() as if PHP
    // had defined it.
    if (cpp_pricing) php.export_function("price_with_tax", price_with_tax);
    for (const char* file : files)
        php.eval_block("require_once " + php_string(directory + "/" + file) + ";");
    return php;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string directory = argc > 1 ? argv[1] : BOND_LEGACY_DIR;
    const bond::Value lines = {{{"item", "keyboard"}, {"net_cents", 4999}, {"quantity", 2}},
                               {{"item", "mouse"}, {"net_cents", 1999}, {"quantity", 1}},
                               {{"item", "cable"}, {"net_cents", 350}, {"quantity", 4}}};

    bond::Bond legacy = load_application(directory, {"pricing.php", "invoice.php"}, false);
    bond::Bond migrated = load_application(directory, {"invoice.php"}, true);

    std::string before = legacy.call("invoice_text", lines, "DE").get<std::string>();
    std::string after = migrated.call("invoice_text", lines, "DE").get<std::string>();
    std::cout << "The legacy invoice (all PHP):\n" << before;
    std::cout << "The migrated invoice (price_with_tax in C++):\n" << after;
    // PHP's own view: price_with_tax is now a function the bond defined, callable by name.
    std::cout << "PHP calls price_with_tax(1000, 'FR') = "
              << migrated.eval("call_user_func('price_with_tax', 1000, 'FR')") << "\n";
    if (before != after) {
        std::cerr << "the migrated application prints another invoice\n";
        return 1;
    }
    std::cout << "Both print the same invoice.\n";

    // A legacy object, kept in PHP: C++ calls its methods and reads its properties.
    bond::Bond shop =
        load_application(directory, {"pricing.php", "invoice.php", "cart.php"}, false);
    bond::Object cart = shop.object("new Cart('FR')");
    for (const auto& line : lines)
        cart.call("add", line["item"], line["net_cents"], line["quantity"]);
    std::cout << "A PHP " << cart.type() << " for " << cart.get("country").get<std::string>()
              << ", ordered by a Python lambda (by quantity):\n";
    bond::Bond py = bond::make_bond("Python");
    bond::Object by_quantity = py.object("lambda a, b: a['quantity'] - b['quantity']");
    cart.call("sortLines", by_quantity);  // PHP's usort calls the Python lambda through a proxy
    std::cout << cart.call("text").get<std::string>();
    // A C++ callback: exported, then named like any PHP callable.
    shop.export_function("by_item", [](const bond::Value& a, const bond::Value& b) {
        return a["item"].get<std::string>().compare(b["item"].get<std::string>());
    });
    cart.call("sortLines", "by_item");
    std::cout << "Ordered by a C++ function (by item):\n" << cart.call("text").get<std::string>();
    return 0;
} catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
}
