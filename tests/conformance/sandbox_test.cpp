// Options::sandbox, for every language: what the locked-down interpreter can and cannot reach.
#include "languages.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using bond::Value;
using namespace conformance;
using namespace std::chrono_literals;

namespace {

std::filesystem::path scratch_directory(const std::string& name) {
    auto directory = std::filesystem::temp_directory_path() /
                     ("bond_sandbox_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory);
    return directory;
}

}  // namespace

TEST_CASE("the sandbox: no network, no host files, read-only system, private /tmp, no privileges") {
    for_each_language([](const Language& language) {
        auto directory = scratch_directory("host");
        std::ofstream(directory / "secret.txt") << "the host's secret";
        LoopbackListener listener;
        std::string port = std::to_string(listener.port);
        std::string private_file = "/tmp/bond_sandbox_private_" + std::to_string(::getpid());

        bond::Bond outside = make_test_bond(language);
        CHECK(outside.eval(language.can_connect(port)) == true);  // the check itself works
        CHECK(outside.eval(language.read_file((directory / "secret.txt").string())) ==
              "the host's secret");

        bond::Bond sandboxed = make_test_bond(language, {.sandbox = bond::Sandbox{}});
        CHECK(sandboxed.eval(language.can_connect(port)) == false);
        CHECK(raises_remote(sandboxed, language.set_global + "\n" +
                                           language.read_file((directory / "secret.txt").string()) +
                                           ";"));
        CHECK(raises_remote(sandboxed, language.write_file("/usr/bond_sandbox_test")));
        CHECK(raises_remote(sandboxed, language.write_file("/etc/bond_sandbox_test")));
        sandboxed.eval_block(language.write_file(private_file));
        CHECK(sandboxed.eval(language.read_file(private_file)) == "written");
        CHECK_FALSE(std::filesystem::exists(private_file));
        std::string status =
            sandboxed.eval(language.read_file("/proc/self/status")).get<std::string>();
        CHECK(status.find("NoNewPrivs:\t1") != std::string::npos);
        std::filesystem::remove_all(directory);
    });
}

TEST_CASE("in the sandbox the exported functions are the only way out, and limits still hold") {
    for_each_language([](const Language& language) {
        bond::Bond sandboxed =
            make_test_bond(language, {.on_output = [](bond::Channel, std::string_view) {},
                                      .limits = {.wall = 300ms},
                                      .sandbox = bond::Sandbox{}});
        sandboxed.export_function("price", [] { return 42; });
        sandboxed.eval_block(language.define_add);
        CHECK(sandboxed.eval(language.call_export("price")) == 42);
        CHECK(raises_remote(sandboxed, language.undefined_function + ";"));
        CHECK_THROWS_AS(sandboxed.eval_block(language.infinite_loop), bond::LimitExceeded);
        CHECK(sandboxed.call("add", 40, 2) == 42);
    });
}

TEST_CASE("the sandbox shows the paths it is given, read-only or writable") {
    for_each_language([](const Language& language) {
        auto readable = scratch_directory("readable"), writable = scratch_directory("writable");
        std::ofstream(readable / "input.txt") << "input";
        bond::Bond sandboxed = make_test_bond(
            language, {.cwd = writable,
                       .sandbox = bond::Sandbox{.read_only = {readable}, .writable = {writable}}});
        CHECK(sandboxed.eval(language.read_file((readable / "input.txt").string())) == "input");
        CHECK(raises_remote(sandboxed, language.write_file((readable / "output.txt").string())));
        sandboxed.eval_block(language.write_file((writable / "output.txt").string()));
        CHECK(std::ifstream(writable / "output.txt").rdbuf() != nullptr);
        std::string written;
        std::ifstream(writable / "output.txt") >> written;
        CHECK(written == "written");
        CHECK(sandboxed.eval(language.cwd) == writable.string());
        std::filesystem::remove_all(readable);
        std::filesystem::remove_all(writable);
    });
}
