#include "daemon.hpp"

#include "daemon_log.hpp"
#include "line_stream.hpp"
#include "socket_line_stream.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bond::daemon {
namespace {

std::string read_token(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the token file " + file.string());
    std::stringstream contents;
    contents << in.rdbuf();
    std::string token = contents.str();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    if (token.empty()) throw std::runtime_error("the token file " + file.string() + " is empty");
    struct stat status {};
    if (::stat(file.c_str(), &status) == 0 && (status.st_mode & 077) != 0)
        log().warn("the token file {} can be read by other users", file.string());
    return token;
}

// A private copy of `fd` for the protocol, and `fd` itself pointed at `replacement`: nothing else
// in the process that reads stdin or writes stdout can mix with the protocol.
int take_descriptor(int fd, int replacement) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw std::runtime_error("cannot duplicate descriptor " + std::to_string(fd));
    ::dup2(replacement, fd);
    return copy;
}

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      signals_(io_, SIGTERM, SIGINT),
      last_writes_(io_),
      client_poller_(io_),
      workers_(io_),
      pool_(workers_, [this] { return registry_.next_id(); }),
      registry_(workers_, pool_) {
    // What can be refused is checked before anything is started.
    for (const auto& [lang, count] : options_.pool) pool_.keep(lang, count);
    std::optional<std::string> token;
    if (options_.listen) {
        if (!options_.token_file) throw std::runtime_error("--listen needs --token-file");
        token = read_token(*options_.token_file);
    }
    dispatcher_.emplace(registry_, token);

    if (options_.stdio) serve_stdio();
    if (options_.socket || (!options_.stdio && !options_.listen)) {
        auto path = options_.socket ? *options_.socket : UnixListener::default_path();
        unix_listener_ = std::make_unique<UnixListener>(
            io_, path, [this](UnixListener::Socket socket, std::string peer) {
                serve_socket(std::move(socket), std::move(peer), false, true);
            });
        log().info("listening on {}", path.string());
    }
    if (options_.listen) {
        tcp_listener_ = std::make_unique<TcpListener>(
            io_, *options_.listen, options_.allow_remote,
            [this](TcpListener::Socket socket, std::string peer) {
                serve_socket(std::move(socket), std::move(peer), true, false);
            });
        log().info("listening on {} (TCP; clients authenticate with the token)",
                   tcp_listener_->address());
    }
    pool_.start();
    wait_for_signal();
}

void Daemon::wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (shutting_down_)
            log().info("SIG{}: still closing; {} bond thread(s) left", ::sigabbrev_np(signal),
                       workers_.alive());
        else
            shutdown(std::string("SIG") + ::sigabbrev_np(signal));
        wait_for_signal();
    });
}

Daemon::~Daemon() = default;

std::function<void()> Daemon::stream_closed() {
    return [this] {
        --open_streams_;
        finish_if_done();
    };
}

template <class Socket>
void Daemon::serve_socket(Socket socket, std::string peer, bool needs_auth, bool detects_hangup) {
    if (shutting_down_) return;
    // Out of Asio's reactor into the client poller, where the daemon decides who it wakes.
    int fd = socket.release();
    serve(std::make_shared<SocketLineStream>(io_, client_poller_, fd, options_.max_message_size,
                                             detects_hangup, stream_closed()),
          std::move(peer), needs_auth);
}

void Daemon::serve_stdio() {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int input = take_descriptor(STDIN_FILENO, null);
    ::close(null);
    int output = take_descriptor(STDOUT_FILENO, STDERR_FILENO);
    using Descriptor = boost::asio::posix::stream_descriptor;
    // Asio's descriptors, as stdin may be a file, which epoll refuses.
    serve(make_line_stream(io_, Descriptor(io_, input),
                           std::optional<Descriptor>(Descriptor(io_, output)),
                           options_.max_message_size, false, stream_closed()),
          "stdio", false);
}

void Daemon::serve(const std::shared_ptr<LineStream>& stream, std::string peer, bool needs_auth) {
    if (shutting_down_) return;
    ++open_streams_;
    std::uint64_t id = ++last_client_id_;
    auto client = std::make_shared<ClientConnection>(io_, id, std::move(peer), stream, *dispatcher_,
                                                     needs_auth, options_.client_limits);
    clients_[id] = client;
    if (needs_auth) disconnect_unless_authenticated(client);
    client->start([this, id] {
        clients_.erase(id);
        if (options_.stdio) shutdown("the stdio client has gone");
    });
}

void Daemon::disconnect_unless_authenticated(const std::shared_ptr<ClientConnection>& client) {
    auto deadline = std::make_shared<boost::asio::steady_timer>(io_, options_.auth_timeout);
    deadline->async_wait([deadline, weak = std::weak_ptr<ClientConnection>(client),
                          timeout = options_.auth_timeout](const boost::system::error_code& ec) {
        auto client = weak.lock();
        if (ec || !client || client->authenticated() || client->closed()) return;
        log().warn("client {} ({}) did not authenticate within {} ms; disconnecting it",
                   client->id(), client->peer(), timeout.count());
        client->disconnect("was disconnected: it did not authenticate in time");
    });
}

void Daemon::announce_ready() {
    if (!options_.ready_fd) return;
    std::string lines;
    if (options_.stdio) lines += "stdio\n";
    if (unix_listener_) lines += "unix " + unix_listener_->path().string() + "\n";
    if (tcp_listener_) lines += "tcp " + tcp_listener_->address() + "\n";
    for (std::size_t written = 0; written < lines.size();) {
        ssize_t count = ::write(*options_.ready_fd, lines.data() + written, lines.size() - written);
        if (count <= 0) break;
        written += static_cast<std::size_t>(count);
    }
    ::close(*options_.ready_fd);
}

int Daemon::run() {
    announce_ready();
    io_.run();
    log().info("bondd ended");
    return 0;
}

void Daemon::stop() {
    boost::asio::post(io_, [this] { shutdown("asked to stop"); });
}

void Daemon::shutdown(const std::string& why) {
    if (shutting_down_) return;
    shutting_down_ = true;
    log().info("shutting down ({}): closing {} client(s) and every bond", why, clients_.size());
    if (unix_listener_) unix_listener_->close();
    if (tcp_listener_) tcp_listener_->close();
    auto clients = clients_;
    for (auto& [id, client] : clients) client->disconnect("was disconnected: the daemon is ending");
    registry_.close_all();
    workers_.when_all_joined([this] {
        // What is still being written to clients gets a moment to leave; a client that does not
        // read does not hold the daemon up longer.
        last_writes_.expires_after(std::chrono::seconds(5));
        last_writes_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) io_.stop();
        });
        finish_if_done();
    });
}

void Daemon::finish_if_done() {
    if (shutting_down_ && workers_.alive() == 0 && open_streams_ == 0) {
        signals_.cancel();
        last_writes_.cancel();
        io_.stop();
    }
}

}  // namespace bond::daemon
