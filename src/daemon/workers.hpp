// The daemon's bond threads: each is joined on the network thread once it has run its last task,
// and the daemon can learn when none is left (to end after SIGTERM).
// Network thread only, except that the threads themselves post their joins to it.
#pragma once

#include "bond_worker.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bond::daemon {

class Workers {
  public:
    explicit Workers(boost::asio::io_context& network) : network_(network) {}

    // A new bond thread; `on_joined` runs on the network thread after it has been joined.
    std::shared_ptr<BondWorker> start(std::string name, std::function<void()> on_joined);
    std::size_t alive() const { return alive_; }
    // Runs `callback` once no thread is alive (at once if none is).
    void when_all_joined(std::function<void()> callback);
    boost::asio::io_context& network() { return network_; }

  private:
    boost::asio::io_context& network_;
    std::size_t alive_ = 0;
    std::vector<std::function<void()>> when_all_joined_;
};

}  // namespace bond::daemon
