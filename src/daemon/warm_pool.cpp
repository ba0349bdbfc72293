#include "warm_pool.hpp"

#include "daemon_log.hpp"
#include "rpc_error.hpp"

#include "../bond/driver_registry.hpp"

#include <boost/asio/post.hpp>

#include <stdexcept>

namespace bond::daemon {

void WarmPool::keep(const std::string& lang, std::size_t count) {
    const detail::DriverSpec* driver = detail::find_driver(lang);
    if (!driver) throw std::runtime_error("--pool: unknown language '" + lang + "'");
    reserves_[driver->name].wanted = count;
}

void WarmPool::start() {
    for (auto& [lang, reserve] : reserves_) fill(lang, reserve);
}

std::shared_ptr<HeldBond> WarmPool::take(const std::string& lang) {
    const detail::DriverSpec* driver = detail::find_driver(lang);
    if (!driver) return nullptr;
    auto found = reserves_.find(driver->name);
    if (found == reserves_.end()) return nullptr;
    Reserve& reserve = found->second;
    std::shared_ptr<HeldBond> taken;
    while (!taken && !reserve.ready.empty()) {
        taken = std::move(reserve.ready.front());
        reserve.ready.pop_front();
        if (taken->ended()) {  // it died while it waited
            log().warn("warm pool: a {} interpreter (pid {}) had ended; dropped", driver->name,
                       taken->pid());
            taken->close();
            taken = nullptr;
        }
    }
    reserve.failing = false;
    // After the answer to this open has gone: an interpreter starting (Node's several threads)
    // competes for the CPU with the network thread that answers.
    boost::asio::post(workers_.network(), [this, lang = driver->name] {
        if (auto again = reserves_.find(lang); again != reserves_.end()) fill(lang, again->second);
    });
    return taken;
}

std::map<std::string, std::size_t> WarmPool::ready() const {
    std::map<std::string, std::size_t> counts;
    for (const auto& [lang, reserve] : reserves_) counts[lang] = reserve.ready.size();
    return counts;
}

void WarmPool::fill(const std::string& lang, Reserve& reserve) {
    while (!closed_ && !reserve.failing &&
           reserve.ready.size() + reserve.starting < reserve.wanted) {
        ++reserve.starting;
        HeldBond::start(
            workers_, next_id_(), lang, bond::Options{},
            [this, lang](std::shared_ptr<HeldBond> held, const std::exception_ptr& error) {
                Reserve& reserve = reserves_[lang];
                --reserve.starting;
                if (error) {
                    reserve.failing = true;
                    log().error("warm pool: cannot start a {} interpreter: {}", lang,
                                describe_exception(error).message);
                } else if (closed_) {
                    held->close();
                } else {
                    log().info("warm pool: a {} interpreter is ready (bond {}, pid {})", lang,
                               held->id(), held->pid());
                    reserve.ready.push_back(std::move(held));
                }
            });
    }
}

void WarmPool::close_all() {
    closed_ = true;
    for (auto& [lang, reserve] : reserves_) {
        for (auto& held : reserve.ready) held->close();
        reserve.ready.clear();
    }
}

}  // namespace bond::daemon
