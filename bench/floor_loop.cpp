#include "floor_loop.hpp"

#include "protocol/json_parser.hpp"

#include <stdexcept>

namespace bench {

FloorLoop::FloorLoop(const Language& language, const std::string& floor_directory)
    : process_([&] {
          std::vector<std::string> argv = language.floor_command;
          argv.push_back(floor_directory + "/" + language.floor_script);
          return Subprocess::Setup{.argv = argv,
                                   .environment = language.environment.empty()
                                                      ? std::map<std::string, std::string>{}
                                                      : environment_with(language.environment),
                                   .pipe_stdin = true,
                                   .pipe_stdout = true};
      }()),
      reader_(process_.stdout_fd()) {}

FloorLoop::~FloorLoop() {
    process_.close_stdin();
    process_.wait();
}

void FloorLoop::round_trip(const bond::Value& argument) {
    std::int64_t id = ++last_id_;
    bond::Value request = {
        {"jsonrpc", "2.0"},
        {"id", id},
        {"method", "call"},
        {"params", {{"name", "ident"}, {"args", bond::Value::array({argument})}}}};
    write_all(process_.stdin_fd(), request.dump() + "\n");
    if (!reader_.read_line(line_)) throw std::runtime_error("the floor loop ended");
    // As the host reads a reply: in place (bond::detail::parse_json_in_place).
    bond::Value reply = bond::detail::parse_json_in_place(line_);
    if (reply["id"] != id || reply["result"] != argument)
        throw std::runtime_error("the floor loop answered something else: " +
                                 reply.dump().substr(0, 200));
}

}  // namespace bench
