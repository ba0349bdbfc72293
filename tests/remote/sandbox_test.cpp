// Bonds in a bubblewrap sandbox: a read-only view of the system, one writable directory, no
// network. The remote code cannot reach a TCP port the host opens on 127.0.0.1 nor write outside
// its directory, while calls, exports and output work (the whole conformance suite also runs in
// such a sandbox: CMakeLists.txt).
#include "machine.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

using conformance::for_each_language;
using conformance::Language;
using conformance::OutputLog;
using namespace remote;

namespace {

// A TCP port listening on 127.0.0.1 that counts the connections made to it.
class Listener {
  public:
    Listener() {
        socket_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (socket_ < 0 || ::bind(socket_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            ::listen(socket_, 16) != 0 ||
            ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(address.sin_port);
    }
    ~Listener() { ::close(socket_); }
    int port() const { return port_; }
    // The connections that arrived so far, accepted and closed.
    int accepted() {
        int count = 0;
        for (;;) {
            int connection = ::accept4(socket_, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection < 0) return count;
            ::close(connection);
            ++count;
        }
    }

  private:
    int socket_ = -1;
    int port_ = 0;
};

std::string sandbox(const std::string& writable) {
    return "bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind " + writable + " " +
           writable + " --unshare-net --die-with-parent";
}

}  // namespace

TEST_CASE("bwrap: the sandboxed code cannot reach the network, the same code outside can") {
    if (!bwrap_ready()) return;
    ScratchDirectory directory;
    for_each_language([&](const Language& language) {
        Listener listener;
        bond::Bond outside = conformance::make_test_bond(language);
        outside.eval_block(language.define_connect);
        CHECK(outside.call("try_connect", listener.port()) == "connected");
        CHECK(listener.accepted() == 1);

        bond::Bond inside = make_bond_through(sandbox(directory.path()), language);
        inside.eval_block(language.define_connect);
        bond::Value refused = inside.call("try_connect", listener.port());
        CHECK(refused != "connected");
        std::string reason = refused.get<std::string>();
        std::transform(reason.begin(), reason.end(), reason.begin(), ::tolower);
        CHECK(reason.find("refused") != std::string::npos);  // ECONNREFUSED, in every wording
        CHECK(listener.accepted() == 0);
    });
}

TEST_CASE("bwrap: the sandboxed code writes only into its own directory") {
    if (!bwrap_ready()) return;
    ScratchDirectory allowed, elsewhere;
    for_each_language([&](const Language& language) {
        bond::Bond inside = make_bond_through(sandbox(allowed.path()), language);
        inside.eval_block(language.define_files);
        std::string mine = allowed.path() + "/" + language.interpreter + ".txt";
        inside.call("write_file", mine, "from the sandbox");
        std::ifstream written(mine);
        std::string text;
        std::getline(written, text);
        CHECK(text == "from the sandbox");

        std::string escape = elsewhere.path() + "/" + language.interpreter + ".txt";
        CHECK_THROWS_AS(inside.call("write_file", escape, "x"), bond::RemoteException);
        CHECK_THROWS_AS(inside.call("write_file", "/etc/bond-escape", "x"), bond::RemoteException);
        CHECK_FALSE(std::filesystem::exists(escape));
        CHECK_FALSE(std::filesystem::exists("/etc/bond-escape"));
        // /tmp is the sandbox's own: what is written there never reaches the host's.
        std::string scratch = "/tmp/bond-sandbox-" + language.interpreter;
        inside.call("write_file", scratch, "private");
        CHECK(inside.call("read_file", scratch) == "private");
        CHECK_FALSE(std::filesystem::exists(scratch));
    });
}

TEST_CASE("bwrap: calls, exports and output work in the sandbox") {
    if (!bwrap_ready()) return;
    ScratchDirectory directory;
    for_each_language([&](const Language& language) {
        OutputLog output;
        bond::Bond inside =
            make_bond_through(sandbox(directory.path()), language, {.on_output = output.sink()});
        inside.eval_block(language.define_add);
        inside.eval_block(language.define_down);
        CHECK(inside.call("add", 40, 2) == 42);
        inside.export_function("up", [&](int n) { return inside.call("down", n).get<int>(); });
        CHECK(inside.call("down", 10) == 10);
        inside.eval_block(language.print_line("from the sandbox"));
        inside.eval_block(language.print_error("and its stderr"));
        inside.eval_block(language.run_command("echo from a child"));
        CHECK(output.text(bond::Channel::Stdout) == "from the sandbox\nfrom a child\n");
        CHECK(output.text(bond::Channel::Stderr) == "and its stderr\n");
    });
}

TEST_CASE("bwrap as nobody: sudo -u nobody bwrap ... combines both") {
    if (!bwrap_ready() || !sudo_ready()) return;
    ScratchDirectory directory;
    std::filesystem::permissions(directory.path(), std::filesystem::perms::all);
    for_each_language([&](const Language& language) {
        Listener listener;
        bond::Bond inside =
            make_bond_through("sudo -u nobody " + sandbox(directory.path()), language);
        CHECK(inside.eval(language.uid) == 65534);
        inside.eval_block(language.define_connect);
        inside.eval_block(language.define_files);
        CHECK(inside.call("try_connect", listener.port()) != "connected");
        CHECK_THROWS_AS(inside.call("read_file", "/etc/shadow"), bond::RemoteException);
        std::string mine = directory.path() + "/" + language.interpreter;
        inside.call("write_file", mine, "ok");
        CHECK(inside.call("read_file", mine) == "ok");
        CHECK(listener.accepted() == 0);
    });
}
