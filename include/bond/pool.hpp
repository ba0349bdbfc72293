// bond::Pool: interpreters of one language started in advance, so that a program that opens
// bonds often gets one in microseconds instead of waiting 30-300 ms for an interpreter to start.
// Each bond taken is replaced in the background by a thread of the pool's own.
#pragma once

#include <bond/bond.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace bond {

class Pool {
  public:
    // Keeps `size` bonds of `lang` started with `options` ready; starts filling at once, one
    // interpreter at a time. An unknown language throws BondException here, as make_bond does.
    Pool(std::string_view lang, std::size_t size, Options options = {});
    // Stops refilling, waits for a start in progress, and closes the bonds not taken.
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // A started bond, owned by the caller from now on: a ready one at once, else the next one
    // to finish starting. When starting failed (a missing interpreter, a start-up error) and
    // none is ready, throws what make_bond threw, and the pool tries again afterwards.
    Bond take();
    // A ready bond, or none; never waits.
    std::optional<Bond> try_take();
    // Waits until `size` bonds are ready; throws like take() when starting fails.
    void wait_until_full();
    // How many bonds are ready now.
    std::size_t ready() const;

  private:
    struct Reserve;
    std::unique_ptr<Reserve> reserve_;
};

}  // namespace bond
