// The warm pool (--pool LANG=N): interpreters started in advance with the default options, so
// that `open` of that language hands one out at once instead of waiting for a start-up. Each one
// handed out is replaced by a new one at once.
// Network thread only.
#pragma once

#include "held_bond.hpp"
#include "workers.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace bond::daemon {

class WarmPool {
  public:
    using NextId = std::function<std::string()>;
    WarmPool(Workers& workers, NextId next_id) : workers_(workers), next_id_(std::move(next_id)) {}

    // Is to keep `count` interpreters of `lang` (any name or alias of a language) ready; throws
    // std::runtime_error for an unknown language.
    void keep(const std::string& lang, std::size_t count);
    // Starts what keep() asked for.
    void start();
    // A started interpreter of `lang` with the default options, or null when none is ready.
    std::shared_ptr<HeldBond> take(const std::string& lang);
    // How many are ready now, per language.
    std::map<std::string, std::size_t> ready() const;
    // Closes the ready ones and those still starting; starts no more.
    void close_all();

  private:
    struct Reserve {
        std::size_t wanted = 0;
        std::size_t starting = 0;
        std::deque<std::shared_ptr<HeldBond>> ready;
        bool failing = false;  // the last start failed: no new attempt until the next take
    };
    void fill(const std::string& lang, Reserve& reserve);

    Workers& workers_;
    NextId next_id_;
    std::map<std::string, Reserve> reserves_;  // by canonical language name
    bool closed_ = false;
};

}  // namespace bond::daemon
