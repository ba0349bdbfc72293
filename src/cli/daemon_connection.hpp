// A client connection to bondd over its Unix socket (docs/daemon.md): requests from the REPL's
// thread, answers and output notifications read by a thread of its own, and requests sent from
// any thread without waiting (interrupt). Error answers become the library's exceptions.
#pragma once
#include <bond/options.hpp>
#include <bond/value.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace bond::cli {

class DaemonConnection {
  public:
    using OutputHandler = std::function<void(Channel, std::string_view)>;
    // BondException when nothing listens on `socket`.
    DaemonConnection(const std::filesystem::path& socket, OutputHandler on_output);
    ~DaemonConnection();
    DaemonConnection(const DaemonConnection&) = delete;
    DaemonConnection& operator=(const DaemonConnection&) = delete;

    // Sends a request and waits for its answer. An error answer throws the exception of its
    // code (detail::throw_rpc_error: RemoteException for -32000, ..., BondException for the
    // daemon's own refusals); a lost connection throws TerminatedException.
    Value request(const std::string& method, const Value& params);
    // Sends a request whose answer is not waited for; from any thread.
    void send_without_waiting(const std::string& method, const Value& params);
    bool connected() const;

  private:
    struct Answer;
    void read_answers();
    void take_line(std::string_view line);
    void write_line(const std::string& line);

    boost::asio::io_context io_;
    boost::asio::local::stream_protocol::socket socket_;
    OutputHandler on_output_;
    std::mutex write_mutex_;
    mutable std::mutex mutex_;
    std::condition_variable answered_;
    std::map<std::int64_t, std::shared_ptr<Answer>> waiting_;
    std::int64_t next_id_ = 1;
    bool connected_ = true;
    std::string lost_because_;
    std::thread reader_;
};

}  // namespace bond::cli
