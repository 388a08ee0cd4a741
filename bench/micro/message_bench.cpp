// Micro-benchmarks (Google Benchmark) for the cost the "thread per driver"
// choice (ARCHITECTURE.md) rests on: a request/response between two actors, both
// pinned to one driver thread, versus both on CAF's scheduler.
//
// Run: build/bin/actio-micro-bench [--benchmark_min_time=1]

#include <benchmark/benchmark.h>

#include <future>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/pinned.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/actors/cli/values.hpp"

namespace {

using kick_atom = caf::atom_constant<caf::atom("kick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// `rounds` ping-pongs between `ping` and `pong`; returns when done.
void run_rounds(caf::actor ping, int rounds) {
  std::promise<void> done;
  auto fut = done.get_future();
  caf::anon_send(ping, kick_atom::value, rounds,
                 reinterpret_cast<uintptr_t>(&done));
  fut.wait();
}

caf::behavior pong_fn(caf::event_based_actor*) {
  return {[](ping_atom, int n) { return n; }};
}

template <class Self>
caf::behavior ping_fn(Self* self, caf::actor pong) {
  auto left = std::make_shared<int>(0);
  auto done = std::make_shared<std::promise<void>*>(nullptr);
  return {
    [=](kick_atom, int rounds, uintptr_t promise) {
      *left = rounds;
      *done = reinterpret_cast<std::promise<void>*>(promise);
      self->send(pong, ping_atom::value, 0);
    },
    [=](int) {
      if (--*left == 0)
        (*done)->set_value();
      else
        self->send(pong, ping_atom::value, *left);
    },
  };
}

void pinned_ping_pong(benchmark::State& state) {
  actio::config cfg;
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  auto& unit = (*rt)->unit(0);
  auto pong = actio::spawn_pinned_fn(unit, [](actio::pinned_actor*) -> caf::behavior {
    return {[](ping_atom, int n) { return n; }};
  });
  auto ping = actio::spawn_pinned_fn(unit, [pong](actio::pinned_actor* self) {
    return ping_fn(self, pong);
  });
  constexpr int rounds = 10000;
  for (auto _ : state)
    run_rounds(ping, rounds);
  state.SetItemsProcessed(state.iterations() * rounds);
  caf::anon_send_exit(ping, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  (*rt)->shutdown();
}

void scheduler_ping_pong(benchmark::State& state) {
  actio::config cfg;
  caf::actor_system sys{cfg};
  auto pong = sys.spawn(pong_fn);
  auto ping = sys.spawn([pong](caf::event_based_actor* self) {
    return ping_fn(self, pong);
  });
  constexpr int rounds = 10000;
  for (auto _ : state)
    run_rounds(ping, rounds);
  state.SetItemsProcessed(state.iterations() * rounds);
  caf::anon_send_exit(ping, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
}

BENCHMARK(pinned_ping_pong)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(scheduler_ping_pong)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

// Google Benchmark's flags, with the command-line conventions of every
// actio-* tool (actio/actors/cli/tool.hpp) around them.
int main(int argc, char** argv) {
  const actio::cli::tool tool{"actio-micro-bench", "",
                              "Micro-benchmarks of CAF messaging and Actio's "
                              "building blocks (Google Benchmark)."};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h")
      return tool.print_help(
        actio::cli::option_line("--benchmark_filter=REGEX",
                                "run only the benchmarks matching REGEX")
        + actio::cli::option_line("--benchmark_repetitions=N",
                                  "repeat each benchmark N times")
        + actio::cli::option_line("--benchmark_min_time=T",
                                  "run each benchmark at least T seconds")
        + actio::cli::option_line("--benchmark_format=FMT",
                                  "console, json or csv")
        + actio::cli::option_line("--benchmark_list_tests",
                                  "list the benchmarks and exit")
        + actio::cli::option_line("", "(and Google Benchmark's other "
                                      "--benchmark_* flags)"));
    if (arg == "--version")
      return tool.print_version();
    // Google Benchmark leaves a flag with a bad number in argv, reported
    // below as unrecognized; say what is wrong instead.
    constexpr std::string_view reps = "--benchmark_repetitions=";
    if (arg.substr(0, reps.size()) == reps
        && !actio::cli::parse_integer(arg.substr(reps.size()), 1, 1000000))
      return tool.bad_value(arg.substr(0, reps.size() - 1),
                            arg.substr(reps.size()),
                            actio::cli::integer_range(1, 1000000));
  }
  benchmark::Initialize(&argc, argv);
  if (argc > 1) { // what Google Benchmark did not take
    std::string_view arg = argv[1];
    if (!arg.empty() && arg[0] == '-')
      return tool.unrecognized_option(arg);
    return tool.usage_error("extra operand '" + std::string{arg} + "'");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return actio::cli::exit_success;
}
