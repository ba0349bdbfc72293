// A client's socket in bondd (SocketLineStream): what is queued for a client when its connection
// is closed still reaches it, and the stream says it has closed, even once its owner let go; a
// client that never reads does not keep it for longer than its drain time.
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

TEST_CASE("a closed client stream delivers what was queued, then closes and says so") {
    boost::asio::io_context io;
    ClientPoller poller(io);
    int ends[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
    std::promise<void> closed;
    auto stream = std::make_shared<SocketLineStream>(io, poller, ends[0], 1 << 20, true,
                                                     [&] { closed.set_value(); });
    stream->start({.on_line = [](std::string&) {},
                   .on_too_long = [] {},
                   .on_input_end = [](bool) {},
                   .on_broken = [] {}});
    // More than the socket takes at once: the rest waits in the stream's queue.
    const std::string answer(4 << 20, 'a');
    stream->write(answer + "\n");
    stream->close();
    stream.reset();  // as a client connection that has gone lets go of it

    std::thread network([&] { io.run(); });
    std::string received;
    char chunk[65536];
    for (ssize_t size; (size = ::read(ends[1], chunk, sizeof chunk)) > 0;)
        received.append(chunk, static_cast<std::size_t>(size));
    bool said_closed =
        closed.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready;
    io.stop();
    network.join();
    ::close(ends[1]);

    CHECK(received.size() == answer.size() + 1);
    CHECK(said_closed);
}

TEST_CASE("a closed client stream whose client never reads is dropped after its drain time") {
    boost::asio::io_context io;
    ClientPoller poller(io);
    int ends[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
    std::promise<void> closed;
    auto stream = std::make_shared<SocketLineStream>(
        io, poller, ends[0], 1 << 20, true, [&] { closed.set_value(); },
        std::chrono::milliseconds(100));
    stream->start({.on_line = [](std::string&) {},
                   .on_too_long = [] {},
                   .on_input_end = [](bool) {},
                   .on_broken = [] {}});
    stream->write(std::string(4 << 20, 'a') + "\n");
    stream->close();
    std::weak_ptr<SocketLineStream> left = stream;
    stream.reset();

    std::thread network([&] { io.run(); });
    bool said_closed =
        closed.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready;
    io.stop();
    network.join();

    CHECK(said_closed);
    CHECK(left.expired());  // nothing holds it any more
    char byte;
    ssize_t size;
    std::size_t received = 0;
    while ((size = ::read(ends[1], &byte, 1)) > 0 && received < (8 << 20)) ++received;
    CHECK(size == 0);  // the daemon's end is closed: the client reads to the end of the stream
    ::close(ends[1]);
}
