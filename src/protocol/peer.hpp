// One end of the wire protocol (docs/protocol.md) over a co-process's pipes: it sends lines,
// numbers its requests, and waits for the reply to one, handing every other message that comes
// meanwhile to its handler, which may send and wait again: nested to any depth. It knows how
// messages are matched, not what they mean; the handler (Session) gives them their meaning and
// holds the tables they refer to, as clangd's transport is apart from its message handler.
// Single-threaded: the thread that uses the Session uses its Peer.
#pragma once

#include "../transport/pipe_channel.hpp"
#include "jsonrpc.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace bond::detail {

// What a Peer cannot decide: what a message means, and what to do when a wait is cut short.
class PeerHandler {
  public:
    // A request of the remote's, to be answered (Peer::send) before it returns.
    virtual void on_request(const Message& request) = 0;
    virtual void on_notification(const Message& notification) = 0;
    // While a reply is awaited: the earliest time the handler must act, given when the reply's
    // own timeout ends (`reply_deadline`, renewed after each request the remote makes).
    virtual Clock::time_point next_deadline(Clock::time_point reply_deadline) = 0;
    // That time came: act on it (may throw, which ends the wait).
    virtual void on_deadline(Clock::time_point reply_deadline) = 0;
    // The channel gave no line (closed, or one longer than allowed): ends the bond and throws.
    [[noreturn]] virtual void on_unread(PipeChannel::ReadStatus status) = 0;
    // A line that is not a message, or a reply to a request not awaited: ends the bond, throws.
    [[noreturn]] virtual void on_protocol_error(const std::string& problem) = 0;

  protected:
    ~PeerHandler() = default;
};

class Peer {
  public:
    // `reply_timeout` bounds each wait for a reply; `logfile` (may be null) receives every line,
    // and `name` prefixes them in the trace log.
    Peer(PipeChannel& channel, PeerHandler& handler, std::chrono::milliseconds reply_timeout,
         std::ostream* logfile, std::string name);

    // The id of the next request; the caller encodes the request with it and sends it.
    std::int64_t next_id() { return ++last_id_; }
    void send(std::string line);
    // Waits for the reply (a Result or an Error) to request `id`, sent before, handing every
    // request and notification that comes meanwhile to the handler.
    Message await_reply(std::int64_t id);
    // One line, logged; for reading outside any request (the driver's start, the close).
    PipeChannel::ReadStatus read_line(std::string& line, Clock::time_point deadline);
    // How many replies are awaited now, one per level of nesting.
    std::size_t depth() const { return depth_; }

  private:
    Clock::time_point reply_deadline() const;
    void log_received(const std::string& line);

    PipeChannel& channel_;
    PeerHandler& handler_;
    std::chrono::milliseconds reply_timeout_;
    std::ostream* logfile_;
    std::string name_;
    std::int64_t last_id_ = 0;
    std::size_t depth_ = 0;
};

// `timeout` from now; milliseconds::max() means "as long as it takes", without overflow.
Clock::time_point deadline_after(std::chrono::milliseconds timeout);
// The start of what a co-process sent, for an error message: control characters are written as
// \xNN, so that a NUL cannot cut the message short nor an escape sequence reach a terminal.
std::string excerpt(std::string_view text, std::size_t limit = 300);

}  // namespace bond::detail
