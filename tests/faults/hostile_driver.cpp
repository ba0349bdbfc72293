// A co-process that plays a driver and then misbehaves as its first argument says: the fault
// tests start it as a "Python" bond (def_args off), so it first reads the Python bootstrap (the
// first line, then as many bytes as it names: loader and driver), announces itself as a driver
// does, and then answers requests according to the scenario:
//   echo            answers call with its first argument, anything else with null
//   not-json        answers with a line that is not JSON
//   wrong-shape     answers with a reply that has neither "result" nor "error"
//   array           answers with a JSON array
//   unknown-id      answers with an id never sent
//   long-line       writes 8 MiB without a newline, then waits
//   deep            answers with a result nested 1,000,000 levels deep
//   invalid-utf8    answers with a string that is not UTF-8
//   nul             answers with a NUL byte inside a string
//   close-stdout    closes its stdout and keeps running, deaf to SIGTERM
//   half-line-exit  writes half a reply and exits with status 3
//   no-read         never reads its stdin again, while the host writes to it
//   call-host       for a call of NAME with ARGS, calls the host's NAME with ARGS itself, and
//                   answers with the host's whole reply to that
//   request-host    for a call whose first argument is a message, sends that message to the
//                   host as a request and answers with the host's whole reply
//   replay          for a call whose first argument is an array of byte values, writes those
//                   bytes as they are, then answers with null (the fuzzer's co-process)
//   deaf-once       runs a call until it is stopped, but misses the first interrupt (as a driver
//                   whose signal lands just before a blocking call does) and stops at the
//                   second; answers later calls with the number of interrupts it has seen
// Lines from the host that are not requests (its replies to what the co-process sent it) are
// ignored.
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

using nlohmann::json;

namespace {

void write_all(int fd, const std::string& data) {
    for (std::size_t done = 0; done < data.size();) {
        ssize_t written = ::write(fd, data.data() + done, data.size() - done);
        if (written <= 0) std::_Exit(1);
        done += static_cast<std::size_t>(written);
    }
}

void send(const json& message) {
    write_all(1, message.dump() + "\n");
}

[[noreturn]] void wait_forever() {
    for (;;) ::pause();
}

// Reads the bootstrap: a line naming the size of the loader and of the driver's source, then
// both (src/bond/driver_registry.cpp).
void read_bootstrap() {
    std::string line;
    if (!std::getline(std::cin, line)) std::_Exit(2);
    std::size_t bytes = 0;
    for (std::string_view mark : {"while len(b)<", "'DRIVER_SIZE':"}) {
        auto at = line.find(mark);
        if (at == std::string::npos) std::_Exit(2);
        bytes += std::stoul(line.substr(at + mark.size()));
    }
    std::string sent(bytes, '\0');
    if (!std::cin.read(sent.data(), static_cast<std::streamsize>(sent.size()))) std::_Exit(2);
}

json reply(const json& request, json result) {
    return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", std::move(result)}};
}

// Sends `message` to the host and returns its reply (the next line).
json ask_host(json message) {
    send(message);
    std::string line;
    if (!std::getline(std::cin, line)) std::_Exit(0);
    return json::parse(line);
}

}  // namespace

int main(int argc, char** argv) {
    std::string scenario = argc > 1 ? argv[1] : "echo";
    std::ios::sync_with_stdio(false);
    read_bootstrap();
    write_all(2, "\n__bond_driver_ready__\n");
    send({{"jsonrpc", "2.0"},
          {"method", "ready"},
          {"params", {{"protocol", 1}, {"lang", "Hostile"}, {"version", "0"}, {"pid", getpid()}}}});

    if (scenario == "no-read") wait_forever();
    int interrupts_seen = 0;
    std::string line;
    while (std::getline(std::cin, line)) {
        json request = json::parse(line);
        if (request.value("method", "") == "interrupt") ++interrupts_seen;
        if (!request.contains("id") || !request.contains("method")) continue;
        const json& params = request["params"];
        bool call = request["method"] == "call";
        if (scenario == "echo") {
            send(reply(request, call ? params["args"][0] : json()));
        } else if (scenario == "not-json") {
            write_all(1, "this is { not json\n");
        } else if (scenario == "wrong-shape") {
            send({{"jsonrpc", "2.0"}, {"id", request["id"]}});
        } else if (scenario == "array") {
            write_all(1, "[1,2,3]\n");
        } else if (scenario == "unknown-id") {
            send({{"jsonrpc", "2.0"}, {"id", request["id"].get<long>() + 1000}, {"result", 1}});
        } else if (scenario == "long-line") {
            write_all(1, std::string(8 << 20, 'a'));
            wait_forever();
        } else if (scenario == "deep") {
            std::string id = request["id"].dump();
            write_all(1, "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" +
                             std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}\n");
        } else if (scenario == "invalid-utf8") {
            write_all(1, "{\"jsonrpc\":\"2.0\",\"id\":" + request["id"].dump() +
                             ",\"result\":\"\xff\xfe\"}\n");
        } else if (scenario == "nul") {
            write_all(1, std::string("{\"jsonrpc\":\"2.0\",\"id\":") + request["id"].dump() +
                             ",\"result\":\"a" + std::string(1, '\0') + "b\"}\n");
        } else if (scenario == "close-stdout") {
            std::signal(SIGTERM, SIG_IGN);
            ::close(1);
            wait_forever();
        } else if (scenario == "half-line-exit") {
            write_all(1, "{\"jsonrpc\":\"2.0\",\"id\":");
            std::_Exit(3);
        } else if (scenario == "call-host" && call) {
            json answer =
                ask_host({{"jsonrpc", "2.0"},
                          {"id", 1},
                          {"method", "call"},
                          {"params", {{"name", params["name"]}, {"args", params["args"]}}}});
            send(reply(request, answer));
        } else if (scenario == "request-host" && call) {
            send(reply(request, ask_host(params["args"][0])));
        } else if (scenario == "deaf-once" && call && interrupts_seen > 0) {
            send(reply(request, interrupts_seen));
        } else if (scenario == "deaf-once" && call) {
            while (interrupts_seen < 2 && std::getline(std::cin, line))
                if (json::parse(line).value("method", "") == "interrupt") ++interrupts_seen;
            send({{"jsonrpc", "2.0"},
                  {"id", request["id"]},
                  {"error",
                   {{"code", -32002},
                    {"message", "stopped"},
                    {"data", {{"type", "Interrupted"}, {"limit", nullptr}}}}}});
        } else if (scenario == "replay" && call) {
            std::string bytes;
            for (const json& byte : params["args"][0]) bytes += static_cast<char>(byte.get<int>());
            write_all(1, bytes);
            send(reply(request, nullptr));
        } else {
            send(reply(request, nullptr));
        }
    }
    return 0;
}
