#include "workers.hpp"

#include <boost/asio/post.hpp>

namespace bond::daemon {

std::shared_ptr<BondWorker> Workers::start(std::string name, std::function<void()> on_joined) {
    auto worker = BondWorker::start(std::move(name), [this, on_joined = std::move(on_joined)](
                                                         std::function<void()> join) mutable {
        boost::asio::post(network_,
                          [this, join = std::move(join), on_joined = std::move(on_joined)] {
                              join();
                              if (on_joined) on_joined();
                              if (--alive_ == 0) {
                                  auto callbacks = std::move(when_all_joined_);
                                  when_all_joined_.clear();
                                  for (auto& callback : callbacks) callback();
                              }
                          });
    });
    ++alive_;  // once the thread exists: it will be joined
    return worker;
}

void Workers::when_all_joined(std::function<void()> callback) {
    if (alive_ == 0)
        callback();
    else
        when_all_joined_.push_back(std::move(callback));
}

}  // namespace bond::daemon
