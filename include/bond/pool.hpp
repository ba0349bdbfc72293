// bond::Pool: interpreters of one language started in advance, so that a program that opens
// bonds often gets one in microseconds instead of waiting 30-300 ms for an interpreter to start.
// Each bond taken is replaced in the background.
#pragma once

#include <bond/bond.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace bond {

class Pool {
  public:
    // Keeps `size` bonds of `lang` started with `options` ready; starts filling at once. One
    // thread of the library's, which lasts as long as the process, starts the bonds of every
    // pool, one at a time (a bond with a sandbox or container ends with the thread that started
    // it). An unknown language throws BondException here, as make_bond does.
    Pool(std::string_view lang, std::size_t size, Options options = {});
    // Stops refilling, waits for a start of this pool in progress, and closes the bonds not
    // taken. Bonds taken live on.
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // A started bond, owned by the caller from now on: a ready one at once, else the next one
    // to finish starting. A failed start (a missing interpreter, a start-up error) pauses the
    // pool; the next take() that finds no bond ready throws what make_bond threw, and the one
    // after it starts again.
    Bond take();
    // A ready bond, or none; never waits, never throws. On a paused pool it drops the error and
    // starts again.
    std::optional<Bond> try_take();
    // Waits until `size` bonds are ready; throws like take() when a start fails.
    void wait_until_full();
    // How many bonds are ready now.
    std::size_t ready() const;

  private:
    struct Reserve;
    std::shared_ptr<Reserve> reserve_;
};

}  // namespace bond
