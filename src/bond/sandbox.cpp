#include "sandbox.hpp"

namespace bond::detail {

std::vector<std::string> sandbox_command(const Sandbox& sandbox,
                                         const std::optional<std::filesystem::path>& cwd) {
    std::vector<std::string> words = {"bwrap",         "--unshare-all", "--die-with-parent",
                                      "--new-session", "--ro-bind",     "/usr",
                                      "/usr",          "--ro-bind",     "/etc",
                                      "/etc",          "--proc",        "/proc",
                                      "--dev",         "/dev",          "--tmpfs",
                                      "/tmp",          "--setenv",      "HOME",
                                      "/tmp",          "--setenv",      "TMPDIR",
                                      "/tmp"};
    // Debian's merged /usr makes these links into /usr; elsewhere they are directories.
    for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
        std::error_code error;
        std::filesystem::path path(top);
        if (std::filesystem::is_symlink(path, error)) {
            words.insert(words.end(),
                         {"--symlink", std::filesystem::read_symlink(path, error).string(), top});
        } else if (std::filesystem::is_directory(path, error)) {
            words.insert(words.end(), {"--ro-bind", top, top});
        }
    }
    for (const auto& path : sandbox.read_only)
        words.insert(words.end(), {"--ro-bind", path.string(), path.string()});
    for (const auto& path : sandbox.writable)
        words.insert(words.end(), {"--bind", path.string(), path.string()});
    words.insert(words.end(), {"--chdir", cwd ? cwd->string() : "/tmp", "--"});
    return words;
}

}  // namespace bond::detail
