#include "actio/actors/config.hpp"

#include <string>

#include <caf/atom.hpp>
#include <caf/message.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/select.hpp"

namespace actio {

config::config() {
  // Before CAF's threads exist (the actor_system built from this config
  // starts them): they inherit the mask (drivers/aio/aio_signal.hpp).
  prepare_backend_signals();
  opt_group{custom_options_, "actio.io"}
    .add<std::string>("backend", "I/O backend: auto, uring, epoll, kqueue, aio")
    .add<size_t>("drivers", "number of driver threads (default 1)")
    .add<size_t>("max-throughput",
                 "messages a pinned actor handles per turn (default 64)")
    .add<size_t>("aio-fds-per-file",
                 "aio backend: dup'd descriptors per open file (default 4)")
    .add<size_t>("aio-threads",
                 "aio backend: glibc aio_init aio_threads (default 8)")
    .add<size_t>("aio-num", "aio backend: glibc aio_init aio_num (default 64)")
    .add<size_t>("aio-helper-threads",
                 "aio backend: most open/fstat/close calls at once on helper "
                 "threads (default 4)")
    .add<size_t>("malloc-retain",
                 "bytes of freed memory glibc may keep per heap instead of "
                 "trimming it at once (default 64 MiB; 0: glibc's own "
                 "settings)")
    .add<std::string>("uring-probe",
                      "for tests: 'fail' makes the io_uring probe fail, so "
                      "auto falls back (default: kernel)");
  opt_group{custom_options_, "actio.log"}
    .add<std::string>("level",
                      "log threshold: trace, debug, info, warn, error, off "
                      "(default info)")
    .add<std::string>("file", "append log lines to this file (default stderr)")
    .add<std::string>("format", "log line format: text or json (default text)");
  // Stream credit is sized from measured throughput over one credit round
  // (2x per round): with 10 ms rounds, a fast sink of 64 KiB chunks is
  // granted ~100 MB of credit. Shorter rounds keep a pipeline's buffers
  // small, which is what bounded memory under backpressure needs.
  stream_credit_round_interval = std::chrono::milliseconds{1};
  stream_max_batch_delay = std::chrono::milliseconds{1};
  // A sender holds elements back until a batch is "full": as many as the
  // receiver handles in this much time (CAF's default 50 us). Actio's
  // elements are whole chunks (tens of us each), so with the default a file
  // source a few reads ahead never filled a batch and every batch waited
  // for the 1 ms max delay (actio-wc: 0.35 GiB/s). 1 us: a costly element
  // goes out at once; cheap ones are still grouped.
  stream_desired_batch_complexity = std::chrono::microseconds{1};
  // CAF's work-stealing workers, once idle, poll 100 times, then 500 times
  // with a 50 us sleep between polls that nothing interrupts, then wait on a
  // condition variable an enqueue signals. A message to an actor on an
  // idle worker (a remote reply, one request in flight) waited for the end
  // of a sleep at each hop: a node round trip took ~270 us. Without the
  // sleeping phase the worker goes from polling to the condition variable
  // (~100-125 us; bench/README.md, *Remote round trips*). The option stays
  // overridable: --work-stealing.moderate-poll-attempts=500 restores CAF's.
  caf::put(content, "work-stealing.moderate-poll-attempts", size_t{0});
  // CAF 0.17.6's add_error_category<T> does not compile: give the renderer.
  add_error_category(caf::atom("actio"),
                     [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                       std::string result = "actio: ";
                       result += to_string(static_cast<errc>(code));
                       // (appends, not operator+: GCC 12 -Wrestrict false alarm)
                       if (ctx.match_elements<std::string>()) {
                         result.append(" (");
                         result.append(ctx.get_as<std::string>(0));
                         result.append(")");
                       } else if (!ctx.empty()) {
                         result.append(" ");
                         result.append(to_string(ctx));
                       }
                       return result;
                     });
}

caf::error config::parse_args(int argc, char** argv) {
  // CAF stops at the first positional argument; options may come anywhere
  // here, so positionals go last (they end up in `remainder`).
  string_list args;
  string_list positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.empty() || arg[0] != '-') {
      positional.emplace_back(std::move(arg));
      continue;
    }
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0
        && arg.find('=') == std::string::npos && i + 1 < argc) {
      auto name = std::string_view{arg}.substr(2);
      const caf::config_option* opt = custom_options_.cli_long_name_lookup(name);
      if (opt == nullptr)
        opt = custom_options_.qualified_name_lookup(name);
      if (opt != nullptr && !opt->is_flag()) {
        arg += '=';
        arg += argv[++i];
      }
    }
    args.emplace_back(std::move(arg));
  }
  args.insert(args.end(), positional.begin(), positional.end());
  if (auto err = parse(std::move(args)))
    return err;
  if (auto text = apply_log_options(); !text.empty())
    return make_actio_error(errc::invalid_argument, std::move(text));
  return caf::none;
}

} // namespace actio
