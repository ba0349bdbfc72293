// A client's socket in bondd (SocketLineStream): what is queued for a client when its connection
// is closed still reaches it, and the stream says it has closed, even once its owner let go; a
// client that never reads does not keep it for longer than its drain time, nor past the end of
// the daemon's event loop.
#include "daemon/socket_line_stream.hpp"
#include "daemon/client_poller.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

using bond::daemon::ClientPoller;
using bond::daemon::SocketLineStream;

namespace {
// A stream on one end of a socket pair, as bondd holds a client's; the test is the client.
struct ClientSocket {
    std::unique_ptr<boost::asio::io_context> io = std::make_unique<boost::asio::io_context>();
    std::unique_ptr<ClientPoller> poller = std::make_unique<ClientPoller>(*io);
    int client = -1;
    std::promise<void> closed;
    std::shared_ptr<SocketLineStream> stream;

    explicit ClientSocket(std::chrono::milliseconds drain_time = std::chrono::seconds(30)) {
        int ends[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
        client = ends[1];
        stream = std::make_shared<SocketLineStream>(
            *io, *poller, ends[0], 1 << 20, true, [this] { closed.set_value(); }, drain_time);
        stream->start({.on_line = [](std::string&) {},
                       .on_too_long = [](std::size_t) {},
                       .on_input_end = [](bool) {},
                       .on_broken = [] {}});
    }
    ~ClientSocket() { ::close(client); }

    // Queues more than the socket takes at once, closes the stream, and lets go of it, as a
    // client connection that has gone does.
    std::weak_ptr<SocketLineStream> close_with_answer_queued(std::size_t answer_size) {
        stream->write(std::string(answer_size, 'a') + "\n");
        stream->close();
        std::weak_ptr<SocketLineStream> left = stream;
        stream.reset();
        return left;
    }
    bool said_closed() {
        return closed.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready;
    }
};
}  // namespace

TEST_CASE("a closed client stream delivers what was queued, then closes and says so") {
    ClientSocket socket;
    const std::size_t answer_size = 4 << 20;
    socket.close_with_answer_queued(answer_size);

    std::thread network([&] { socket.io->run(); });
    std::string received;
    char chunk[65536];
    for (ssize_t size; (size = ::read(socket.client, chunk, sizeof chunk)) > 0;)
        received.append(chunk, static_cast<std::size_t>(size));
    bool said_closed = socket.said_closed();
    socket.io->stop();
    network.join();

    CHECK(received.size() == answer_size + 1);
    CHECK(said_closed);
}

TEST_CASE("a closed client stream whose client never reads is dropped after its drain time") {
    ClientSocket socket(std::chrono::milliseconds(100));
    auto left = socket.close_with_answer_queued(4 << 20);

    std::thread network([&] { socket.io->run(); });
    bool said_closed = socket.said_closed();
    socket.io->stop();
    network.join();

    CHECK(said_closed);
    CHECK(left.expired());  // nothing holds it any more
    char chunk[65536];
    ssize_t size;
    while ((size = ::read(socket.client, chunk, sizeof chunk)) > 0) {
    }
    CHECK(size == 0);  // the daemon's end is closed: the client reads to the end of the stream
}

TEST_CASE("a closing client stream does not outlive the daemon's event loop") {
    ClientSocket socket;  // a drain time far longer than the test
    auto left = socket.close_with_answer_queued(4 << 20);
    socket.io->poll();  // what is ready runs: the stream now waits for its drain deadline
    REQUIRE_FALSE(left.expired());

    socket.poller.reset();
    socket.io.reset();  // as the daemon ends: the pending deadline's handler is destroyed
    CHECK(left.expired());
}
