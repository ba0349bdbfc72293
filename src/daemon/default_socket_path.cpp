#include "default_socket_path.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace bond::daemon {

std::filesystem::path default_socket_path() {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime && *runtime) return std::filesystem::path(runtime) / "bond" / "bondd.sock";
    return std::filesystem::path("/tmp/bond-" + std::to_string(::geteuid())) / "bondd.sock";
}

}  // namespace bond::daemon
