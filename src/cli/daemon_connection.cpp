#include "daemon_connection.hpp"

#include "protocol/error_codes.hpp"
#include "protocol/json_parser.hpp"
#include "protocol/jsonrpc.hpp"

#include <bond/errors.hpp>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace bond::cli {
namespace asio = boost::asio;
namespace {

// The longest line taken from the daemon: its own limit for clients' lines.
constexpr std::size_t kMaxLine = std::size_t{256} << 20;

}  // namespace

struct DaemonConnection::Answer {
    std::optional<detail::Message> message;
};

DaemonConnection::DaemonConnection(const std::filesystem::path& socket, OutputHandler on_output)
    : socket_(io_), on_output_(std::move(on_output)) {
    boost::system::error_code error;
    socket_.connect(asio::local::stream_protocol::endpoint(socket.string()), error);
    if (error)
        throw BondException("", "cannot connect to bondd at " + socket.string() + ": " +
                                    error.message() + " (is `bond serve` running?)");
    reader_ = std::thread([this] { read_answers(); });
}

DaemonConnection::~DaemonConnection() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    reader_.join();
    socket_.close(ignored);
}

bool DaemonConnection::connected() const {
    std::lock_guard lock(mutex_);
    return connected_;
}

void DaemonConnection::write_line(const std::string& line) {
    std::lock_guard lock(write_mutex_);
    boost::system::error_code error;
    asio::write(socket_, asio::buffer(line), error);
    // A failed write shows as the connection's end to the reader, which fails what waits.
}

Value DaemonConnection::request(const std::string& method, const Value& params) {
    auto answer = std::make_shared<Answer>();
    std::int64_t id;
    {
        std::lock_guard lock(mutex_);
        if (!connected_) throw TerminatedException("", lost_because_);
        id = next_id_++;
        waiting_[id] = answer;
    }
    write_line(detail::encode_request(id, method, params));
    std::unique_lock lock(mutex_);
    answered_.wait(lock, [&] { return answer->message.has_value() || !connected_; });
    waiting_.erase(id);
    if (!answer->message) throw TerminatedException("", lost_because_);
    if (answer->message->kind == detail::Message::Kind::Error)
        detail::throw_rpc_error({answer->message->error_code, answer->message->error_message,
                                 answer->message->error_data});
    return std::move(answer->message->result);
}

void DaemonConnection::send_without_waiting(const std::string& method, const Value& params) {
    std::int64_t id;
    {
        std::lock_guard lock(mutex_);
        if (!connected_) return;
        id = next_id_++;  // its answer finds no one waiting and is dropped
    }
    write_line(detail::encode_request(id, method, params));
}

void DaemonConnection::read_answers() {
    asio::streambuf buffer(kMaxLine);
    std::string reason = "the daemon closed the connection";
    for (;;) {
        boost::system::error_code error;
        std::size_t length = asio::read_until(socket_, buffer, '\n', error);
        if (error) {
            if (error != asio::error::eof && error != asio::error::operation_aborted)
                reason = error == asio::error::not_found
                             ? "the daemon sent a line longer than 256 MiB"
                             : "the connection to the daemon failed: " + error.message();
            break;
        }
        std::string line(asio::buffers_begin(buffer.data()),
                         asio::buffers_begin(buffer.data()) + static_cast<long>(length));
        buffer.consume(length);
        take_line(line);
    }
    std::lock_guard lock(mutex_);
    connected_ = false;
    lost_because_ = reason;
    answered_.notify_all();
}

void DaemonConnection::take_line(std::string_view line) {
    detail::Message message;
    try {
        // Any id: the daemon's own requests have string ids ("bondd:1", docs/daemon.md).
        message = detail::decode_message(detail::parse_json(line), detail::IdRule::Any);
    } catch (const std::exception&) {
        return;  // not a message: nothing in it can be answered or shown
    }
    using Kind = detail::Message::Kind;
    if (message.kind == Kind::Notification && message.method == "output") {
        const Value& params = message.params;
        if (!params.is_object() || !params.contains("data")) return;
        Channel channel =
            params.value("channel", "stdout") == "stderr" ? Channel::Stderr : Channel::Stdout;
        const Value& data = params["data"];
        if (data.is_string()) {
            on_output_(channel, data.get_ref<const std::string&>());
        } else if (data.is_binary()) {
            const auto& bytes = data.get_binary();
            on_output_(channel,
                       std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        }
    } else if (message.kind == Kind::Request) {
        // Only the client that exported a function is asked to run it; this one exports none.
        write_line(detail::encode_error(message.raw_id, detail::kMethodNotFound,
                                        "the bond command line exports no functions"));
    } else if (message.kind == Kind::Result || message.kind == Kind::Error) {
        std::lock_guard lock(mutex_);
        auto found = waiting_.find(message.id);
        if (found == waiting_.end()) return;
        found->second->message = std::move(message);
        answered_.notify_all();
    }
}

}  // namespace bond::cli
