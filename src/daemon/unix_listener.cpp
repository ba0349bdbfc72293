#include "unix_listener.hpp"

#include "default_socket_path.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bond::daemon {
namespace {

std::string system_error(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// The directory of the default socket: made 0700 if missing; refused unless it is a directory
// of this user's that nobody else may enter.
void ensure_private_directory(const std::filesystem::path& directory) {
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error(system_error("cannot create " + directory.string()));
    struct stat status {};
    if (::lstat(directory.c_str(), &status) != 0)
        throw std::runtime_error(system_error("cannot inspect " + directory.string()));
    if (!S_ISDIR(status.st_mode) || status.st_uid != ::geteuid())
        throw std::runtime_error(directory.string() +
                                 " is not a directory of this user's; refusing to use it");
    if ((status.st_mode & 077) != 0 && ::chmod(directory.c_str(), 0700) != 0)
        throw std::runtime_error(system_error("cannot make " + directory.string() + " private"));
}

// A socket file at `path` from an earlier daemon: removed if nobody listens on it any more.
void remove_stale_socket(const std::filesystem::path& path) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) return;
    if (!S_ISSOCK(status.st_mode))
        throw std::runtime_error(path.string() +
                                 " exists and is not a socket; refusing to replace it");
    boost::asio::io_context probe_context;
    UnixListener::Socket probe(probe_context);
    boost::system::error_code error;
    probe.connect(boost::asio::local::stream_protocol::endpoint(path.string()), error);
    if (!error) throw std::runtime_error("another daemon is listening on " + path.string());
    ::unlink(path.c_str());
}

}  // namespace

std::filesystem::path UnixListener::default_path() {
    std::filesystem::path path = default_socket_path();
    ensure_private_directory(path.parent_path());
    return path;
}

UnixListener::UnixListener(boost::asio::io_context& io, std::filesystem::path path,
                           std::function<void(Socket socket, std::string peer)> on_client)
    : path_(std::move(path)),
      acceptor_(io),
      on_client_(std::move(on_client)),
      loop_(acceptor_, [this](Socket socket) { take(std::move(socket)); }) {
    remove_stale_socket(path_);
    boost::asio::local::stream_protocol::endpoint endpoint(path_.string());
    boost::system::error_code error;
    acceptor_.open(endpoint.protocol(), error);
    // Created without permissions for others from the start, not narrowed after bind.
    mode_t old_mask = ::umask(0177);
    if (!error) acceptor_.bind(endpoint, error);
    ::umask(old_mask);
    if (!error) acceptor_.listen(boost::asio::socket_base::max_listen_connections, error);
    if (error)
        throw std::runtime_error("cannot listen on " + path_.string() + ": " + error.message());
    struct stat status {};
    if (::lstat(path_.c_str(), &status) == 0) inode_ = status.st_ino;
    ::chmod(path_.c_str(), 0600);
    loop_.start();
}

UnixListener::~UnixListener() {
    try {
        close();
    } catch (...) {  // a destructor must not throw (the log line's allocation)
    }
}

void UnixListener::close() {
    if (closed_) return;
    closed_ = true;
    loop_.stop();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    struct stat status {};
    if (::lstat(path_.c_str(), &status) == 0 && status.st_ino == inode_) ::unlink(path_.c_str());
}

void UnixListener::take(Socket socket) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 ||
        peer.uid != ::geteuid()) {
        log().warn("refused a client of uid {} (pid {}): only uid {} is served", peer.uid, peer.pid,
                   ::geteuid());
        return;  // the socket closes here
    }
    on_client_(std::move(socket), "unix, pid " + std::to_string(peer.pid));
}

}  // namespace bond::daemon
