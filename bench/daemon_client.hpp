// A small JSON-RPC client of bondd over its Unix socket (docs/daemon.md): one request at a time,
// blocking, output notifications skipped. What a C++ program would write to use the daemon.
#pragma once

#include "subprocess.hpp"

#include <bond/value.hpp>

#include <cstdint>
#include <string>

namespace bench {

class DaemonClient {
  public:
    explicit DaemonClient(const std::string& socket_path);
    ~DaemonClient();
    DaemonClient(const DaemonClient&) = delete;
    DaemonClient& operator=(const DaemonClient&) = delete;

    // The result; an error answer is a std::runtime_error with its message.
    bond::Value request(const std::string& method, const bond::Value& params);

  private:
    int socket_ = -1;
    LineReader reader_;
    std::int64_t last_id_ = 0;
    std::string line_;
};

}  // namespace bench
