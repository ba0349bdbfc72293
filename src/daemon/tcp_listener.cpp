#include "tcp_listener.hpp"

#include <stdexcept>

namespace bond::daemon {
namespace {

boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& address) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
        throw std::runtime_error("--listen wants HOST:PORT, e.g. 127.0.0.1:7878, not '" + address +
                                 "'");
    std::string host = address.substr(0, colon);
    std::string port_text = address.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
    unsigned long port = 0;
    std::size_t used = 0;
    try {
        port = std::stoul(port_text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != port_text.size() || port > 65535)
        throw std::runtime_error("--listen: '" + port_text + "' is not a port number");
    boost::system::error_code error;
    auto ip = boost::asio::ip::make_address(host, error);
    if (error)
        throw std::runtime_error("--listen: '" + host + "' is not a numeric address or localhost");
    return {ip, static_cast<unsigned short>(port)};
}

std::string describe(const boost::asio::ip::tcp::endpoint& endpoint) {
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

TcpListener::TcpListener(boost::asio::io_context& io, const std::string& address, bool allow_remote,
                         std::function<void(Socket socket, std::string peer)> on_client)
    : acceptor_(io), loop_(acceptor_, [on_client = std::move(on_client)](Socket socket) {
          boost::system::error_code error;
          auto peer = socket.remote_endpoint(error);
          if (error) return;  // gone already
          socket.set_option(boost::asio::ip::tcp::no_delay(true), error);
          on_client(std::move(socket), "tcp " + describe(peer));
      }) {
    auto endpoint = parse_endpoint(address);
    if (!endpoint.address().is_loopback() && !allow_remote)
        throw std::runtime_error("--listen " + address +
                                 " is not a loopback address; add --allow-remote to accept "
                                 "clients from other machines");
    boost::system::error_code error;
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(boost::asio::socket_base::max_listen_connections, error);
    if (error) throw std::runtime_error("cannot listen on " + address + ": " + error.message());
    loop_.start();
}

void TcpListener::close() {
    loop_.stop();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::string TcpListener::address() const {
    boost::system::error_code error;
    return describe(acceptor_.local_endpoint(error));
}

}  // namespace bond::daemon
