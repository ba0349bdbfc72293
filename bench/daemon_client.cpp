#include "daemon_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bench {
namespace {
int connect_to(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        std::string reason = std::strerror(errno);
        if (fd >= 0) close(fd);
        throw std::runtime_error("cannot connect to " + path + ": " + reason);
    }
    return fd;
}
}  // namespace

DaemonClient::DaemonClient(const std::string& socket_path)
    : socket_(connect_to(socket_path)), reader_(socket_) {}

DaemonClient::~DaemonClient() {
    close(socket_);
}

bond::Value DaemonClient::request(const std::string& method, const bond::Value& params) {
    std::int64_t id = ++last_id_;
    bond::Value message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    write_all(socket_, message.dump() + "\n");
    for (;;) {
        if (!reader_.read_line(line_)) throw std::runtime_error("bondd closed the connection");
        bond::Value answer = bond::Value::parse(line_);
        if (!answer.contains("id") || answer["id"] != id) continue;  // output notifications
        if (answer.contains("error"))
            throw std::runtime_error(method + ": " + answer["error"].value("message", "error"));
        return std::move(answer["result"]);
    }
}

}  // namespace bench
