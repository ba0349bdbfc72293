// Fuzz target: what a client may send to bondd. The real daemon runs in this process on a Unix
// socket and holds a bond named "fuzz" whose co-process is the hostile driver in its "echo"
// scenario (it answers a call with its first argument, anything else with null). Each input is
// the byte stream of one new client, which first attaches to that bond: its bytes go to the
// daemon as they are, then a `list` request whose answer shows the daemon has taken in
// everything before it, and the client disconnects. The daemon must answer or refuse each line
// and go on: a crash, a sanitizer's report, or no answer to that `list` within 10 s is a finding.
//
// When the daemon does not answer, the harness prints the last lines of the daemon's log (kept in
// memory at debug level, with the traffic) before it stops: what the daemon last did with whom.
//
// `open` is the one request not sent: its params may name any command to start, and a mutation
// could name a harmful one. Its params go through the daemon's own parser here instead.
#include "daemon/daemon.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/open_request.hpp"
#include "protocol/json_parser.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace {

using bond::Value;

// The daemon's and the library's log, its last lines kept for a finding.
std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> recent_log;

void keep_recent_log() {
    recent_log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(400);
    for (const char* name : {"bondd", "bond"})
        spdlog::register_logger(std::make_shared<spdlog::logger>(name, recent_log));
    bond::daemon::configure_logging("debug", true);
}

// One client connection with a blocking, deadline-guarded line reader.
class Connection {
  public:
    explicit Connection(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            fail("cannot connect to the daemon");
    }
    ~Connection() { ::close(fd_); }

    // Sends everything; false when the daemon closed the connection.
    bool send(std::string_view data) {
        while (!data.empty()) {
            ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (sent < 0 && errno == EINTR) continue;  // libFuzzer's timer
            if (sent <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(sent));
        }
        return true;
    }

    // The next line (without '\n'); the end of the connection is a finding only when `needed`.
    std::string read_line(bool needed = true) {
        for (;;) {
            auto end = buffer_.find('\n');
            if (end != std::string::npos) {
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                return line;
            }
            wait_readable();
            char chunk[65536];
            ssize_t size = ::recv(fd_, chunk, sizeof chunk, 0);
            if (size < 0 && errno == EINTR) continue;
            if (size <= 0) {
                if (needed) fail("the daemon closed the connection");
                return {};
            }
            buffer_.append(chunk, static_cast<std::size_t>(size));
        }
    }

    // Waits until the daemon has sent something, for 10 s at most. A signal (libFuzzer's timer)
    // ends poll() early: it then waits for the rest of the time.
    void wait_readable() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) fail("the daemon did not answer within 10 s");
            pollfd readable{fd_, POLLIN, 0};
            int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
            if (ready == 1) return;
            if (ready < 0 && errno != EINTR) fail("cannot wait for the daemon's answer");
        }
    }

    // Sends one request and returns its reply, skipping what else comes (notifications).
    Value request(const Value& message) {
        if (!send(message.dump() + "\n")) fail("the daemon closed the connection");
        for (;;) {
            Value reply = bond::detail::parse_json(read_line());
            if (reply.contains("id") && reply["id"] == message["id"]) return reply;
        }
    }

    [[noreturn]] static void fail(const char* why) {
        if (recent_log) {
            std::fprintf(stderr, "daemon_requests_fuzz: the daemon's last log lines:\n");
            for (const std::string& line : recent_log->last_formatted())
                std::fprintf(stderr, "  %s", line.c_str());
        }
        std::fprintf(stderr, "daemon_requests_fuzz: %s\n", why);
        std::abort();
    }

  private:
    int fd_;
    std::string buffer_;
};

Value request(std::string method, Value params) {
    return {{"jsonrpc", "2.0"}, {"id", "harness"}, {"method", method}, {"params", params}};
}

// The daemon, and a client of the harness's own that holds the "fuzz" bond.
struct Harness {
    std::string socket;
    std::unique_ptr<bond::daemon::Daemon> daemon;
    std::thread serving;
    std::unique_ptr<Connection> keeper;
    std::string bond_id;

    Harness() {
        keep_recent_log();
        char directory[] = "/tmp/bond-fuzz-XXXXXX";
        if (!::mkdtemp(directory)) Connection::fail("cannot make a directory for the socket");
        socket = std::string(directory) + "/bondd.sock";
        bond::daemon::DaemonOptions options;
        options.socket = socket;
        options.max_message_size = 1 << 20;
        options.client_limits = {.max_bonds = 4, .max_requests = 64};
        daemon = std::make_unique<bond::daemon::Daemon>(options);
        serving = std::thread([daemon = daemon.get()] { daemon->run(); });
        keeper = std::make_unique<Connection>(socket);
        open_bond();
    }

    void open_bond() {
        if (!bond_id.empty()) keeper->request(request("close", {{"bond", bond_id}}));
        Value opened = keeper->request(
            request("open", {{"lang", "Python"},
                             {"command", std::string(BOND_HOSTILE_DRIVER) + " echo"},
                             {"def_args", false},
                             {"name", "fuzz"}}));
        if (!opened.contains("result")) Connection::fail("cannot open the hostile driver's bond");
        bond_id = opened["result"]["bond"];
    }

    // The bond may have been stopped by an earlier input (interrupt): a new one then.
    void attach(Connection& client) {
        Value attached = client.request(request("attach", {{"name", "fuzz"}}));
        Value echoed = client.request(
            request("call", {{"bond", bond_id}, {"name", "f"}, {"args", Value::array({1})}}));
        if (attached.contains("result") && echoed.value("result", Value()) == 1) return;
        client.request(request("close", {{"bond", bond_id}}));
        open_bond();
        client.request(request("attach", {{"name", "fuzz"}}));
    }
};

// True for a line the daemon would take as an `open` request (decoded as it decodes lines).
bool is_open_request(std::string_view line, Value& params) {
    try {
        Value message = bond::detail::parse_json(line);
        if (!message.is_object() || message.value("method", Value()) != "open") return false;
        params = message.value("params", Value());
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

Harness* harness = nullptr;  // reachable to the end: not a leak

// At exit, before the library's own statics go: the daemon's threads must be gone by then.
void stop_daemon() {
    harness->daemon->stop();
    harness->serving.join();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!harness) {
        harness = new Harness();
        std::atexit(stop_daemon);
    }
    Connection client(harness->socket);
    harness->attach(client);

    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string to_send;
    while (!input.empty()) {
        auto end = input.find('\n');
        std::string_view line =
            input.substr(0, end == std::string_view::npos ? input.size() : end + 1);
        input.remove_prefix(line.size());
        Value params;
        if (is_open_request(line, params)) {
            try {
                bond::daemon::parse_open_request(params);
            } catch (const std::exception&) {
                // Refused as the daemon would refuse it.
            }
            continue;
        }
        to_send.append(line);
    }
    // A line of its own, whatever the input ended with.
    to_send += "\n{\"jsonrpc\":\"2.0\",\"id\":\"fuzz-end\",\"method\":\"list\"}\n";
    if (!client.send(to_send)) return 0;  // the daemon may close a client that sent garbage
    for (;;) {
        std::string line = client.read_line(false);
        if (line.empty()) return 0;
        if (line.find("\"fuzz-end\"") != std::string::npos) return 0;
    }
}
