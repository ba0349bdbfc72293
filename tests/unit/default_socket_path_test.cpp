#include "daemon/default_socket_path.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace {

// Sets (or, with nullopt, unsets) XDG_RUNTIME_DIR for one scope.
class RuntimeDirectory {
  public:
    explicit RuntimeDirectory(const std::optional<std::string>& value) {
        if (const char* old = std::getenv("XDG_RUNTIME_DIR")) old_ = old;
        if (value)
            ::setenv("XDG_RUNTIME_DIR", value->c_str(), 1);
        else
            ::unsetenv("XDG_RUNTIME_DIR");
    }
    ~RuntimeDirectory() {
        if (old_)
            ::setenv("XDG_RUNTIME_DIR", old_->c_str(), 1);
        else
            ::unsetenv("XDG_RUNTIME_DIR");
    }

  private:
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the default socket is under XDG_RUNTIME_DIR, and finding it makes nothing") {
    RuntimeDirectory runtime("/nonexistent-bond-runtime/1000");
    CHECK(bond::daemon::default_socket_path() ==
          std::filesystem::path("/nonexistent-bond-runtime/1000/bond/bondd.sock"));
    CHECK_FALSE(std::filesystem::exists("/nonexistent-bond-runtime"));
}

TEST_CASE("without XDG_RUNTIME_DIR the default socket is in /tmp/bond-UID") {
    auto expected =
        std::filesystem::path("/tmp/bond-" + std::to_string(::geteuid())) / "bondd.sock";
    {
        RuntimeDirectory runtime(std::nullopt);
        CHECK(bond::daemon::default_socket_path() == expected);
    }
    RuntimeDirectory empty("");  // set but empty counts as unset
    CHECK(bond::daemon::default_socket_path() == expected);
}
