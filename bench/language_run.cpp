#include "language_run.hpp"

#include "bondd_process.hpp"
#include "daemon_client.hpp"
#include "floor_loop.hpp"
#include "idle_memory.hpp"
#include "memory_probe.hpp"
#include "payload.hpp"
#include "subprocess.hpp"

#include <bond/bond.hpp>
#include <bond/pool.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace bench {
namespace {

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;

struct PayloadSize {
    std::size_t bytes;
    std::string name;  // "1MiB"
    bool has_target;
};
const std::vector<PayloadSize> kPayloads = {{kKiB, "1KiB", false},
                                            {64 * kKiB, "64KiB", false},
                                            {kMiB, "1MiB", true},
                                            {16 * kMiB, "16MiB", true}};

bond::Value samples_of(const std::vector<double>& values) {
    return bond::Value(values);
}

std::string ratio_target(double minimum, const std::string& of) {
    char text[64];
    std::snprintf(text, sizeof text, ">= %.2f x %s", minimum, of.c_str());
    return text;
}

// A calls/s figure of `samples` against `floor`, which it must reach `minimum` times.
Figure rate_figure(std::string key, std::string title, std::optional<double> floor,
                   const std::vector<double>& samples, double minimum, const std::string& of) {
    Figure figure{.key = std::move(key),
                  .title = std::move(title),
                  .unit = "calls/s",
                  .floor = floor,
                  .value = median(samples)};
    figure.details["samples"] = samples_of(samples);
    figure.ratio = ratio_of(figure.value, figure.floor);
    figure.target = ratio_target(minimum, of);
    figure.met = at_least(figure.ratio, minimum);
    return figure;
}

class LanguageRunner {
  public:
    LanguageRunner(const Language& language, const RunSettings& settings)
        : language_(language), settings_(settings) {
        result_.key = language.key;
        result_.name = language.bond_name;
    }

    LanguageResult run() {
        std::string version = output_of(language_.version_command);
        result_.version = version.substr(0, version.find('\n'));
        attempt("bond", [&] {
            bond_.emplace(start_bond());
            bond::Value module = bond_->eval(language_.json_module_code);
            result_.json_module = module.is_string() ? module.get<std::string>() : module.dump();
        });
        bool calls = wants("call") || wants("callback") || wants("daemon") || wants("object");
        if (wants("floor") || calls) attempt("floor", [&] { measure_calls(); });
        if (wants("payload")) attempt("payload", [&] { measure_payloads(); });
        if (wants("startup")) attempt("startup", [&] { measure_startup(); });
        if (wants("daemon")) attempt("daemon", [&] { measure_daemon(); });
        if (wants("parallel")) attempt("parallel", [&] { measure_parallel(); });
        if (wants("idle")) attempt("idle", [&] { measure_idle(); });
        return std::move(result_);
    }

  private:
    bool wants(const std::string& group) const {
        return settings_.only.empty() || settings_.only.contains(group);
    }

    template <class F>
    void attempt(const std::string& what, F&& measure) {
        std::cerr << "  " << language_.key << ": " << what << std::endl;
        try {
            measure();
        } catch (const std::exception& error) {
            result_.errors.push_back(what + ": " + error.what());
            std::cerr << "  " << language_.key << ": " << what << " failed: " << error.what()
                      << std::endl;
        }
    }

    bond::Options options() const {
        bond::Options options;
        if (!language_.environment.empty()) options.env = environment_with(language_.environment);
        return options;
    }

    std::map<std::string, std::string> environment() const {
        return language_.environment.empty() ? std::map<std::string, std::string>{}
                                             : environment_with(language_.environment);
    }

    bond::Bond start_bond() const {
        bond::Bond bond = bond::make_bond(language_.bond_name, options());
        bond.eval_block(language_.define_ident);
        return bond;
    }

    bond::Bond& bond() {
        if (!bond_) throw std::runtime_error("the bond did not start");
        return *bond_;
    }

    Figure& add(Figure figure) { return result_.figures.emplace_back(std::move(figure)); }

    // floor, call, callback: one small integer there and back, taking turns.
    void measure_calls() {
        FloorLoop floor(language_, settings_.floor_directory);
        std::int64_t counter = 0;
        std::vector<Batch> batches = {[&](std::size_t count) {
            for (std::size_t i = 0; i < count; ++i) floor.round_trip(++counter);
        }};
        bool calls = wants("call") || wants("daemon") || wants("object");
        if (calls) {
            batches.push_back([&](std::size_t count) {
                for (std::size_t i = 0; i < count; ++i) {
                    std::int64_t sent = ++counter;
                    if (bond().call("ident", sent) != sent)
                        throw std::runtime_error("ident returned something else");
                }
            });
        }
        std::optional<bond::Object> echo;
        if (wants("object")) {
            echo = bond().object(language_.object_with_ident);
            batches.push_back([&](std::size_t count) {
                for (std::size_t i = 0; i < count; ++i) {
                    std::int64_t sent = ++counter;
                    if (echo->call("ident", sent) != sent)
                        throw std::runtime_error("ident returned something else");
                }
            });
        }
        if (wants("callback")) {
            bond().export_function("host_ident",
                                   [](const bond::Value& args) { return args.at(0); });
            batches.push_back([&](std::size_t count) {
                bond().eval_block(with_count(language_.callback_loop, count));
            });
        }
        auto samples = rates(settings_.sampling, 50, batches);
        floor_rate_ = median(samples[0]);
        std::size_t next = 1;
        Figure call{
            .key = "small_call", .title = "call ident(i)", .unit = "calls/s", .floor = floor_rate_};
        call.details["floor_samples"] = samples_of(samples[0]);
        if (calls) {
            call.value = median(samples[next]);
            call.details["samples"] = samples_of(samples[next++]);
            call.ratio = ratio_of(call.value, call.floor);
            call.target = ratio_target(target::kSmallCall, "floor");
            call.met = at_least(call.ratio, target::kSmallCall);
        }
        std::optional<double> call_rate = call.value;
        add(std::move(call));
        if (wants("object"))  // the same work as a method of an object: within 15% of its cost
            add(rate_figure("object_call", "Object::call ident(i)", call_rate, samples[next++],
                            target::kObjectCall, "call"));
        if (wants("callback"))
            add(rate_figure("callback", "callback host_ident(i)", floor_rate_, samples[next++],
                            target::kCallback, "floor"));
    }

    void measure_payloads() {
        FloorLoop floor(language_, settings_.floor_directory);
        for (const auto& size : kPayloads) {
            std::cerr << "  " << language_.key << ": payload " << size.name << std::endl;
            const bond::Value payload = make_payload(size.bytes);
            const std::string& text = payload.get_ref<const std::string&>();
            std::vector<Batch> batches = {
                [&](std::size_t count) {
                    for (std::size_t i = 0; i < count; ++i) floor.round_trip(payload);
                },
                [&](std::size_t count) {
                    for (std::size_t i = 0; i < count; ++i) {
                        bond::Value result = bond().call("ident", payload);
                        if (!result.is_string() || result.get_ref<const std::string&>() != text)
                            throw std::runtime_error("ident returned something else");
                    }
                }};
            std::size_t warmup = std::clamp<std::size_t>(kMiB / size.bytes, 1, 100);
            auto samples = rates(settings_.sampling, warmup, batches);
            double mebibytes = static_cast<double>(size.bytes) / kMiB;
            for (auto& sample : samples)
                for (double& rate : sample) rate *= mebibytes;
            Figure figure{.key = "payload_" + size.name,
                          .title = "payload " + size.name,
                          .unit = "MiB/s",
                          .floor = median(samples[0]),
                          .value = median(samples[1])};
            figure.ratio = ratio_of(figure.value, figure.floor);
            figure.details = {{"bytes", size.bytes},
                              {"floor_samples", samples_of(samples[0])},
                              {"samples", samples_of(samples[1])}};
            if (size.has_target) {
                figure.target = ratio_target(target::kPayload, "floor");
                figure.met = at_least(figure.ratio, target::kPayload);
            }
            add(std::move(figure));
        }
        measure_host_memory("payload_16MiB_host_memory", "host memory, 16 MiB call", {});
        // glibc raises its mmap and trim thresholds once a program frees a large block, and then
        // keeps freed stages of growing buffers (nlohmann's lexer holds a string twice while it
        // reads it) resident: a fixed trim threshold shows the host's own share.
        measure_host_memory("payload_16MiB_host_memory_fixed_trim",
                            "host memory, fixed malloc trim",
                            {{"MALLOC_TRIM_THRESHOLD_", "131072"}});
    }

    void measure_host_memory(const std::string& key, const std::string& title,
                             const std::map<std::string, std::string>& environment) {
        std::cerr << "  " << language_.key << ": " << title << std::endl;
        std::size_t bytes = kPayloads.back().bytes;
        bond::Value probe =
            probe_memory(settings_.self, language_, bytes, settings_.quick ? 1 : 3, environment);
        double growth = 0;
        for (const auto& sample : probe["growth_bytes"])
            growth = std::max(growth, sample.get<double>());
        Figure memory{.key = key, .title = title, .unit = "MiB", .value = growth / kMiB};
        memory.ratio = growth / static_cast<double>(bytes);
        if (environment.empty()) {
            memory.target = "< 5 x payload";
            memory.met = *memory.ratio < target::kPayloadMemory;
        }
        memory.details = probe;
        memory.details["payload_bytes"] = bytes;
        add(std::move(memory));
    }

    void measure_startup() {
        int repetitions = std::max(3, settings_.sampling.repetitions);
        std::vector<double> alone, bonded;
        for (int repetition = 0; repetition < repetitions; ++repetition) {
            auto start = Clock::now();
            Subprocess interpreter({.argv = language_.alone_command,
                                    .environment = environment(),
                                    .discard_stderr = true});
            if (interpreter.wait() != 0)
                throw std::runtime_error(language_.alone_command[0] + " failed alone");
            alone.push_back(seconds_since(start) * 1000);

            start = Clock::now();
            bond::Bond bond = bond::make_bond(language_.bond_name, options());
            bond.call(language_.first_call, -1);
            bonded.push_back(seconds_since(start) * 1000);
        }
        Figure startup{.key = "startup",
                       .title = "start-up to first call",
                       .unit = "ms",
                       .floor = median(alone),
                       .value = median(bonded)};
        startup.ratio = ratio_of(startup.value, startup.floor);
        startup.target = "<= floor + 15 ms";
        startup.met = *startup.value - *startup.floor <= target::kStartupExtraMs;
        startup.details = {{"extra_ms", *startup.value - *startup.floor},
                           {"floor_samples", alone},
                           {"samples", bonded},
                           {"floor_command", language_.alone_command}};
        add(std::move(startup));
        measure_pool_take();
    }

    // take() from a bond::Pool of one, each once the pool has refilled, as a library user would
    // meet it: the library's counterpart of bondd's warm open.
    void measure_pool_take() {
        bond::Pool pool(language_.bond_name, 1, options());
        int repetitions = std::max(3, settings_.sampling.repetitions);
        std::vector<double> takes;
        for (int repetition = 0; repetition < repetitions; ++repetition) {
            pool.wait_until_full();
            auto start = Clock::now();
            bond::Bond bond = pool.take();
            takes.push_back(seconds_since(start) * 1000);
        }
        add(warm_figure("pool_take", "bond::Pool take, warm", takes));
    }

    // The daemon's calls take turns with the floor loop, like call and callback: the ratio then
    // holds when the machine's load changes between the floor's measurement and the daemon's.
    void measure_daemon() {
        measure_warm_open();
        FloorLoop floor(language_, settings_.floor_directory);
        std::int64_t floor_counter = 0;
        Batch floor_batch = [&](std::size_t count) {
            for (std::size_t i = 0; i < count; ++i) floor.round_trip(++floor_counter);
        };
        BonddProcess bondd(settings_.bondd, environment(), {});
        DaemonClient client(bondd.socket_path());
        std::string id = client.request("open", {{"lang", language_.bond_name}})["bond"];
        client.request("eval_block", {{"bond", id}, {"code", language_.define_ident}});
        std::int64_t counter = 0;
        auto samples = rates(
            settings_.sampling, 50,
            {floor_batch, [&](std::size_t count) {
                 for (std::size_t i = 0; i < count; ++i) {
                     ++counter;
                     bond::Value params = {{"bond", id}, {"name", "ident"}, {"args", {counter}}};
                     if (client.request("call", params) != counter)
                         throw std::runtime_error("ident returned something else");
                 }
             }});
        client.request("close", {{"bond", id}});
        add(daemon_figure("daemon_cpp_client", "bondd, C++ client", samples[0], samples[1]));

        // The Python client is a process of its own: one repetition per run of it, each after a
        // repetition of the floor loop.
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g", settings_.sampling.seconds);
        Sampling once = settings_.sampling;
        once.repetitions = 1;
        // The client package of clients/python takes turns with that raw loop (issue 23).
        std::vector<double> floor_samples, python_samples, package_samples;
        auto client_rate = [&](const std::string& program, const std::string& script) {
            std::string output =
                output_of({program, settings_.clients_directory + "/" + script, bondd.socket_path(),
                           language_.bond_name, language_.define_ident, seconds, "1"});
            bond::Value reported = bond::Value::parse(output, nullptr, false);
            if (!reported.is_object() || !reported.contains("calls_per_second"))
                throw std::runtime_error(script + " failed: " + output);
            return reported["calls_per_second"].at(0).get<double>();
        };
        for (int repetition = 0; repetition < settings_.sampling.repetitions; ++repetition) {
            floor_samples.push_back(rates(once, 50, {floor_batch})[0][0]);
            python_samples.push_back(client_rate("python3", "bondd_calls.py"));
            package_samples.push_back(client_rate("python3", "python_client_calls.py"));
        }
        add(daemon_figure("daemon_python_client", "bondd, Python client", floor_samples,
                          python_samples));
        add(rate_figure("daemon_python_package", "bondd, clients/python", median(python_samples),
                        package_samples, target::kClientPackage, "raw Python loop"));
        measure_node_package(bondd, seconds);
    }

    // clients/node against a raw request loop of Node's own, in turns within one process
    // (bench/clients/node_calls.js).
    void measure_node_package(BonddProcess& bondd, const std::string& seconds) {
        std::string output =
            output_of({"node", settings_.clients_directory + "/node_calls.js", bondd.socket_path(),
                       language_.bond_name, language_.define_ident, seconds,
                       std::to_string(settings_.sampling.repetitions)});
        bond::Value reported = bond::Value::parse(output, nullptr, false);
        if (!reported.is_object() || !reported.contains("client_calls_per_second"))
            throw std::runtime_error("node_calls.js failed: " + output);
        auto raw = reported["raw_calls_per_second"].get<std::vector<double>>();
        Figure figure = rate_figure("daemon_node_package", "bondd, clients/node", median(raw),
                                    reported["client_calls_per_second"].get<std::vector<double>>(),
                                    target::kClientPackage, "raw Node loop");
        figure.details["floor_samples"] = samples_of(raw);
        add(std::move(figure));
    }

    Figure daemon_figure(std::string key, std::string title, const std::vector<double>& floor,
                         const std::vector<double>& samples) {
        Figure figure{.key = std::move(key),
                      .title = std::move(title),
                      .unit = "calls/s",
                      .floor = median(floor),
                      .value = median(samples)};
        figure.details["floor_samples"] = samples_of(floor);
        figure.details["samples"] = samples_of(samples);
        figure.ratio = ratio_of(figure.value, figure.floor);
        figure.target = ratio_target(target::kDaemon, "floor");
        figure.met = at_least(figure.ratio, target::kDaemon);
        return figure;
    }

    // open from bondd's warm pool, each open once the pool has refilled, as a user would meet it.
    void measure_warm_open() {
        BonddProcess bondd(settings_.bondd, environment(), {"--pool", language_.bond_name + "=1"});
        DaemonClient client(bondd.socket_path());
        int repetitions = std::max(3, settings_.sampling.repetitions);
        std::vector<double> opens;
        for (int repetition = 0; repetition < repetitions; ++repetition) {
            bondd.wait_for_pool(repetition + 1);
            auto start = Clock::now();
            std::string id = client.request("open", {{"lang", language_.bond_name}})["bond"];
            opens.push_back(seconds_since(start) * 1000);
            client.request("close", {{"bond", id}});
        }
        add(warm_figure("warm_open", "bondd open, warm pool", opens));
    }

    // A bond handed out by a warm pool: milliseconds, each sample taken once the pool was full.
    static Figure warm_figure(std::string key, std::string title,
                              const std::vector<double>& samples) {
        Figure figure{.key = std::move(key),
                      .title = std::move(title),
                      .unit = "ms",
                      .value = median(samples)};
        figure.target = "< 2 ms";
        figure.met = *figure.value < target::kWarmOpenMs;
        figure.details["samples"] = samples;
        return figure;
    }

    // Ten idle bonds held by bondd against ten bare interpreters waiting on their stdin (issue
    // 25); three in a --quick run.
    void measure_idle() {
        IdleMemory memory = measure_idle_memory(language_, settings_.bondd, environment(),
                                                settings_.quick ? 3 : 10);
        Figure idle{.key = "idle_memory",
                    .title = "idle bond memory (PSS)",
                    .unit = "MiB",
                    .floor = median(memory.bare_mib),
                    .value = median(memory.bond_mib)};
        idle.ratio = ratio_of(idle.value, idle.floor);
        idle.target = "<= floor + 2 MiB";
        idle.met = *idle.value - *idle.floor <= target::kIdleExtraMiB;
        idle.details = {{"extra_mib", *idle.value - *idle.floor},
                        {"floor_samples", memory.bare_mib},
                        {"samples", memory.bond_mib},
                        {"floor_command", language_.idle_command},
                        {"bondd_kib_per_bond", memory.bondd_kib_per_bond},
                        {"bondd_threads_per_bond", memory.bondd_threads_per_bond}};
        add(std::move(idle));
    }

    void measure_parallel() {
        const std::vector<std::size_t> widths = {1, 2, 4};
        std::vector<bond::Bond> bonds;
        for (std::size_t i = 0; i < widths.back(); ++i) bonds.push_back(start_bond());
        auto calls = [](bond::Bond& bond, std::size_t count) {
            for (std::size_t i = 0; i < count; ++i)
                if (bond.call("ident", static_cast<std::int64_t>(i)) != i)
                    throw std::runtime_error("ident returned something else");
        };
        auto start = Clock::now();
        calls(bonds[0], 50);
        std::size_t count = operations_per_repetition(settings_.sampling, 50, seconds_since(start));
        // Each thread makes `count` calls on its own bond; the figure is all calls over the time
        // until the last thread is done.
        std::vector<std::vector<double>> samples(widths.size());
        for (int repetition = 0; repetition < settings_.sampling.repetitions; ++repetition) {
            for (std::size_t which = 0; which < widths.size(); ++which) {
                std::vector<std::exception_ptr> failures(widths[which]);
                auto started = Clock::now();
                {
                    std::vector<std::jthread> threads;
                    for (std::size_t t = 0; t < widths[which]; ++t)
                        threads.emplace_back([&, t] {
                            try {
                                calls(bonds[t], count);
                            } catch (...) {
                                failures[t] = std::current_exception();
                            }
                        });
                }
                double elapsed = seconds_since(started);
                for (auto& failure : failures)
                    if (failure) std::rethrow_exception(failure);
                samples[which].push_back(static_cast<double>(count * widths[which]) / elapsed);
            }
        }
        double one = median(samples[0]);
        for (std::size_t which = 0; which < widths.size(); ++which) {
            std::string n = std::to_string(widths[which]);
            Figure figure{.key = "parallel_" + n,
                          .title = "parallel, " + n + (widths[which] == 1 ? " bond" : " bonds"),
                          .unit = "calls/s",
                          .value = median(samples[which])};
            figure.details = {{"samples", samples[which]}, {"calls_per_thread", count}};
            if (widths[which] > 1) {
                figure.floor = one;
                figure.ratio = ratio_of(figure.value, figure.floor);
            }
            if (widths[which] == 2) {
                figure.target = ratio_target(target::kParallelTwo, "1 bond");
                figure.met = at_least(figure.ratio, target::kParallelTwo);
            }
            add(std::move(figure));
        }
    }

    const Language& language_;
    const RunSettings& settings_;
    LanguageResult result_;
    std::optional<bond::Bond> bond_;
    std::optional<double> floor_rate_;
};

}  // namespace

const std::vector<std::string>& figure_groups() {
    static const std::vector<std::string> groups = {
        "floor", "call", "object", "callback", "payload", "startup", "daemon", "parallel", "idle"};
    return groups;
}

LanguageResult run_language(const Language& language, const RunSettings& settings) {
    return LanguageRunner(language, settings).run();
}

}  // namespace bench
