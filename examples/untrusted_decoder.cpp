// Decoding uploaded files with code that must not be trusted: a Python decoder runs as the user
// nobody, in a bubblewrap sandbox that shows it /usr and nothing else of the machine, with no
// network and a private /tmp; or, with --lxc, as nobody in an unprivileged LXC container (its
// ids mapped onto the host's 100000-165535: even its root is nobody of the host), over the
// host's / read-only, with no network but its own loopback and a private /tmp. C++ hands it each
// upload's bytes and gets structured data back. The decoder is a legacy one that evaluates the
// values it reads, so a hostile upload can make it run code: reading /etc/shadow, opening a socket
// to a service of this machine, looping forever, eating memory. Each attempt is contained, and the
// next upload is decoded as usual, by the same decoder.
//   untrusted_decoder [--lxc] [FILE...]   (default: a few uploads of its own, hostile ones too)
// Needs sudo (run as root, or with sudo rights to become nobody) and bwrap (Debian: bubblewrap);
// --lxc needs root, lxc-execute (Debian: lxc) and root:100000:65536 in /etc/subuid and
// /etc/subgid.
#include <bond/bond.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The sandbox: nobody, only /usr of the machine (read-only), a private /tmp, no network, no
// other process visible, ended with the host.
const char* const kSandbox =
    "sudo -u nobody bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib "
    "--symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp --chdir /tmp "
    "--unshare-all --new-session --die-with-parent python3";

// The legacy decoder: "key = value" lines whose values it eval()s, which is the hole.
const char* const kDecoder = R"(
def decode(data):
    record = {}
    for number, line in enumerate(data.decode('utf-8').splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        key, separator, value = line.partition('=')
        if not separator:
            raise ValueError(f'line {number}: no "=" in {line!r}')
        record[key.strip()] = eval(value.strip())
    return record
)";

// A TCP service of this machine on 127.0.0.1, which a decoder must never reach.
class InternalService {
  public:
    InternalService() {
        socket_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (socket_ < 0 || ::bind(socket_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            ::listen(socket_, 8) != 0 ||
            ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(address.sin_port);
    }
    ~InternalService() { ::close(socket_); }
    int port() const { return port_; }
    bool was_reached() const {
        int connection = ::accept4(socket_, nullptr, nullptr, SOCK_CLOEXEC);
        if (connection < 0) return false;
        ::close(connection);
        return true;
    }

  private:
    int socket_ = -1;
    int port_ = 0;
};

struct Upload {
    std::string name;
    std::string bytes;
};

std::vector<Upload> sample_uploads(int service_port) {
    return {
        {"profile.txt", "name = 'Ada'\nlanguages = ['C++', 'Python']\nyears = 36\n"},
        {"shadow.txt", "stolen = open('/etc/shadow').read()\n"},
        {"exfiltrate.txt", "sent = __import__('socket').create_connection(('127.0.0.1', " +
                               std::to_string(service_port) + "), 2).send(b'secrets')\n"},
        {"forever.txt", "spin = next(i for i in __import__('itertools').count() if i < 0)\n"},
        {"bomb.txt", "hog = 'x' * (1 << 30)\n"},
        {"settings.txt", "# still decoded after all that\ntheme = 'dark'\nfont_size = 14\n"},
    };
}

bond::Bond start_decoder(bool in_lxc) {
    // Each upload gets 2 s and 64 MiB: a decoder that goes over is stopped inside the
    // interpreter (LimitExceeded), and the same decoder goes on with the next upload. The
    // timeout is the last resort, should the decoder stop answering at all.
    bond::Options options{.timeout = 30s,
                          .limits = {.wall = 2s, .cpu = 2s, .memory = std::size_t{64} << 20}};
    if (in_lxc)
        options.container = bond::Lxc{.id_map = bond::IdMap{}, .uid = 65534, .gid = 65534};
    else
        options.command = kSandbox;
    bond::Bond decoder = bond::make_bond("Python", std::move(options));
    decoder.eval_block(kDecoder);
    return decoder;
}

}  // namespace

int main(int argc, char** argv) try {
    InternalService service;
    std::vector<Upload> uploads;
    bool in_lxc = argc > 1 && std::string(argv[1]) == "--lxc";
    for (int i = in_lxc ? 2 : 1; i < argc; ++i) {
        std::ifstream file(argv[i], std::ios::binary);
        if (!file) throw std::runtime_error(std::string("cannot read ") + argv[i]);
        uploads.push_back({argv[i], std::string(std::istreambuf_iterator<char>(file), {})});
    }
    if (uploads.empty()) uploads = sample_uploads(service.port());

    bond::Bond decoder = start_decoder(in_lxc);
    std::cout << "decoder runs as uid " << decoder.eval("__import__('os').getuid()") << "\n";
    for (const auto& upload : uploads) {
        std::cout << upload.name << ": ";
        try {
            bond::Value bytes = bond::Value::binary({upload.bytes.begin(), upload.bytes.end()});
            bond::Value record = decoder.call("decode", bytes);
            std::cout << "decoded " << record.dump() << "\n";
        } catch (const bond::LimitExceeded& error) {
            std::cout << "rejected, over its " << error.limit() << " limit: " << error.message()
                      << "\n";
        } catch (const bond::RemoteException& error) {
            std::cout << "rejected, " << error.message() << "\n";
        } catch (const bond::BondException& error) {  // the decoder ended: start another
            std::cout << "rejected, the decoder failed: " << error.what() << "\n";
            decoder = start_decoder(in_lxc);
        }
    }
    bool reached = service.was_reached();
    std::cout << "the internal service was " << (reached ? "REACHED" : "not reached") << "\n";
    return reached ? 1 : 0;
} catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
}
