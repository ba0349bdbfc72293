#include "peer.hpp"

#include "../bond/log.hpp"

#include <algorithm>
#include <ostream>

namespace bond::detail {
namespace {

struct DepthGuard {
    std::size_t& depth;
    explicit DepthGuard(std::size_t& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
};

}  // namespace

Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
    constexpr std::chrono::milliseconds longest = std::chrono::hours(24 * 365 * 100);
    return Clock::now() + std::clamp(timeout, std::chrono::milliseconds(0), longest);
}

std::string excerpt(std::string_view text, std::size_t limit) {
    std::string shown;
    for (char c : text.substr(0, limit)) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            shown += {'\\', 'x', hex[byte >> 4], hex[byte & 15]};
        } else {
            shown += c;
        }
    }
    if (text.size() > limit) shown += "... (" + std::to_string(text.size()) + " bytes)";
    return shown;
}

Peer::Peer(PipeChannel& channel, PeerHandler& handler, std::chrono::milliseconds reply_timeout,
           std::ostream* logfile, std::string name)
    : channel_(channel),
      handler_(handler),
      reply_timeout_(reply_timeout),
      logfile_(logfile),
      name_(std::move(name)) {}

void Peer::send(std::string line) {
    if (logfile_) *logfile_ << "-> " << line << std::flush;
    if (log().should_log(spdlog::level::trace))
        log().trace("{} -> {}", name_, std::string_view(line).substr(0, line.size() - 1));
    channel_.send(std::move(line));
}

PipeChannel::ReadStatus Peer::read_line(std::string& line, Clock::time_point deadline) {
    auto status = channel_.read_line(line, deadline);
    if (status == PipeChannel::ReadStatus::Line) log_received(line);
    return status;
}

void Peer::log_received(const std::string& line) {
    if (logfile_) *logfile_ << "<- " << line << '\n' << std::flush;
    if (log().should_log(spdlog::level::trace)) log().trace("{} <- {}", name_, line);
}

Message Peer::await_reply(std::int64_t id) {
    DepthGuard guard(depth_);
    auto reply_deadline = deadline_after(reply_timeout_);
    for (;;) {
        // Checked before reading too: a flood of messages must not keep a deadline from acting.
        auto deadline = handler_.next_deadline(reply_deadline);
        if (Clock::now() >= deadline) {
            handler_.on_deadline(reply_deadline);
            continue;
        }
        std::string line;
        auto status = channel_.read_line(line, deadline);
        if (status == PipeChannel::ReadStatus::Woken) continue;  // the handler's deadlines moved
        if (status == PipeChannel::ReadStatus::TimedOut) {
            handler_.on_deadline(reply_deadline);
            continue;
        }
        if (status != PipeChannel::ReadStatus::Line) handler_.on_unread(status);
        log_received(line);
        Message message;
        try {
            message = decode_message_in_place(line);
        } catch (const ProtocolError& error) {
            handler_.on_protocol_error(std::string(error.what()) + ": " + excerpt(line));
        }
        switch (message.kind) {
            case Message::Kind::Notification:
                handler_.on_notification(message);
                break;
            case Message::Kind::Request:
                handler_.on_request(message);
                // The remote's own requests may take their time: the reply's timeout starts again.
                reply_deadline = deadline_after(reply_timeout_);
                break;
            case Message::Kind::Result:
            case Message::Kind::Error:
                if (message.id != id)
                    handler_.on_protocol_error("a reply to request " + std::to_string(message.id) +
                                               " while request " + std::to_string(id) +
                                               " was awaited");
                return message;
        }
    }
}

}  // namespace bond::detail
