// actio-echo-bench: the report — the table, actio's ratios to each baseline
// and to actio+, and the issue-16 targets (see echo_bench.hpp).

#include "echo_bench_target.hpp"

namespace echo_bench {
namespace {

double msgs_per_s(const Stats& s) { return s.seconds > 0 ? static_cast<double>(s.messages) / s.seconds : 0; }

// Server CPU time per echoed message, in microseconds (0 if unknown).
double cpu_us_per_msg(const Stats& s) {
  return s.cpu_known && s.messages > 0 ? s.server_cpu / static_cast<double>(s.messages) * 1e6 : 0;
}

double p99_us(const Stats& s) { return s.latency.quantile_us(0.99); }

// a / b, or nothing when either is unknown (0).
std::optional<double> ratio(double a, double b) {
  if (a > 0 && b > 0)
    return a / b;
  return std::nullopt;
}

std::string fmt_ratio(std::optional<double> r) {
  if (!r)
    return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", *r);
  return buf;
}

// The target line: "VALUE met" or "VALUE MISSED" (n/a when unknown).
std::string verdict(std::optional<double> r, bool higher_is_better, double target) {
  if (!r)
    return "n/a";
  bool met = higher_is_better ? *r >= target : *r <= target;
  return fmt_ratio(r) + (met ? " met" : " MISSED");
}

// The target that ran (and did not fail) under this name, if any.
const Target* ran(const std::vector<Target>& targets, const char* name) {
  for (const Target& t : targets)
    if (t.name == name && !t.failed)
      return &t;
  return nullptr;
}

// msgs/s versus the better of the plain epoll and plain io_uring loops.
void print_msgs_target(const Target& actio, const Target* epoll, const Target* uring) {
  const Target* best = epoll;
  if (uring && (!best || msgs_per_s(uring->stats) > msgs_per_s(best->stats)))
    best = uring;
  if (!best) {
    std::printf("target msgs/s >= %.2f x the better of epoll and uring: n/a (neither ran)\n",
                target_msgs_ratio);
    return;
  }
  const char* only = !epoll ? ", uring only: epoll did not run"
                     : !uring ? ", epoll only: uring did not run"
                              : "";
  std::printf("target msgs/s >= %.2f x the better of epoll and uring (%s, %.0f/s%s): %s\n",
              target_msgs_ratio, best->name.c_str(), msgs_per_s(best->stats), only,
              verdict(ratio(msgs_per_s(actio.stats), msgs_per_s(best->stats)), true,
                      target_msgs_ratio)
                .c_str());
}

// Pipelined (--depth 16): msgs/s versus the event-loop libraries, libuv
// and tokio current_thread, each that ran.
void print_pipelined_targets(const Target& actio, const std::vector<Target>& targets) {
  for (const char* name : {"uv", "tokio"}) {
    const Target* b = ran(targets, name);
    if (!b) {
      std::printf("target depth-%d msgs/s >= %s's: n/a (%s did not run)\n",
                  target_pipelined_depth, name, name);
      continue;
    }
    std::printf("target depth-%d msgs/s >= %s's (%.0f/s): %s\n", target_pipelined_depth, name,
                msgs_per_s(b->stats),
                verdict(ratio(msgs_per_s(actio.stats), msgs_per_s(b->stats)), true, 1.0).c_str());
  }
}

} // namespace

void print_table(const Options& opt, const std::vector<Target>& targets) {
  std::printf("\n%-9s %11s %9s %9s %9s %11s %8s %11s %8s %8s\n", "server", "msgs/s", "MB/s",
              "p50 us", "p99 us", "messages", "srv CPU%", "srv us/msg", "cli CPU%", "other%");
  for (const Target& t : targets) {
    if (t.failed)
      continue;
    const Stats& s = t.stats;
    double rate = msgs_per_s(s);
    double p50 = s.latency.quantile_us(0.50);
    std::printf("%-9s %11.0f %9.2f %9.1f %9.1f %11" PRIu64, t.name.c_str(), rate,
                rate * static_cast<double>(opt.size) / 1e6, p50, p99_us(s), s.messages);
    if (s.cpu_known)
      std::printf(" %8.1f %11.2f %8.1f %8.1f\n", s.server_cpu / s.seconds * 100,
                  cpu_us_per_msg(s), s.client_cpu / s.seconds * 100, s.other_cpu / s.seconds * 100);
    else
      std::printf(" %8s %11s %8s %8s\n", "n/a", "n/a", "n/a", "n/a");
  }
  std::printf("(MB/s: echoed payload, one direction; CPU%%: of one core over the measured "
              "windows; other%%: rest of the machine)\n");
  for (const Target& t : targets) {
    if (t.failed)
      continue;
    if (t.stalled > 0)
      std::printf("warning: %s: %d connection(s) completed no message while measured\n",
                  t.name.c_str(), t.stalled);
    if (t.idle_seconds > 0 && t.idle_cpu / t.idle_seconds > 0.02)
      std::printf("warning: %s: the idle server used %.0f%% of a core while another was "
                  "measured\n",
                  t.name.c_str(), t.idle_cpu / t.idle_seconds * 100);
    if (t.stats.cpu_known && t.stats.other_cpu / t.stats.seconds > 0.10)
      std::printf("warning: %s: other processes used %.0f%% of a core while measuring; "
                  "figures are noisy\n",
                  t.name.c_str(), t.stats.other_cpu / t.stats.seconds * 100);
    else if (t.stats.cpu_known && t.stats.client_cpu / t.stats.seconds > 0.95)
      std::printf("note: %s: the client used >95%% of its core; msgs/s may be client-bound, "
                  "compare srv us/msg\n",
                  t.name.c_str());
  }
}

void print_also_ratios(const Target& actio, const Target& plus) {
  if (actio.failed || plus.failed) {
    std::printf("ratio actio+/actio: n/a (a server run failed)\n");
    return;
  }
  if (cpu_us_per_msg(actio.stats) > 0 && cpu_us_per_msg(plus.stats) > 0)
    std::printf("ratio actio+/actio server CPU per msg: %.3f\n",
                cpu_us_per_msg(plus.stats) / cpu_us_per_msg(actio.stats));
  if (msgs_per_s(actio.stats) > 0)
    std::printf("ratio actio+/actio msgs/s: %.3f\n",
                msgs_per_s(plus.stats) / msgs_per_s(actio.stats));
}

void print_baseline_ratios(const std::vector<Target>& targets, int depth) {
  auto is_actio = [](const Target& t) { return t.name == "actio"; };
  auto actio_it = std::find_if(targets.begin(), targets.end(), is_actio);
  bool any_baseline = std::any_of(targets.begin(), targets.end(),
                                  [](const Target& t) { return t.baseline; });
  if (actio_it == targets.end() || !any_baseline)
    return;
  const Target& actio = *actio_it;
  if (actio.failed) {
    std::printf("ratios actio/baselines: n/a (the actio run failed)\n");
    return;
  }
  // Each ratio is actio's figure over the baseline's: msgs/s higher is
  // better, p99 and srv us/msg lower.
  std::printf("\n");
  for (const Target& b : targets) {
    if (!b.baseline)
      continue;
    if (b.failed) {
      std::printf("ratio actio/%s: n/a (the %s run failed)\n", b.name.c_str(), b.name.c_str());
      continue;
    }
    std::printf("ratio actio/%s: msgs/s %s, p99 %s, srv us/msg %s\n", b.name.c_str(),
                fmt_ratio(ratio(msgs_per_s(actio.stats), msgs_per_s(b.stats))).c_str(),
                fmt_ratio(ratio(p99_us(actio.stats), p99_us(b.stats))).c_str(),
                fmt_ratio(ratio(cpu_us_per_msg(actio.stats), cpu_us_per_msg(b.stats))).c_str());
  }

  const Target* epoll = ran(targets, "epoll");
  const Target* uring = ran(targets, "uring");
  print_msgs_target(actio, epoll, uring);
  if (depth == target_pipelined_depth)
    print_pipelined_targets(actio, targets);
  if (!epoll) {
    std::printf("targets p99 and srv us/msg versus epoll: n/a (epoll did not run)\n");
    return;
  }
  std::printf("target p99 <= %.2f x epoll's (%.1f us): %s\n", target_p99_ratio,
              p99_us(epoll->stats),
              verdict(ratio(p99_us(actio.stats), p99_us(epoll->stats)), false, target_p99_ratio)
                .c_str());
  std::printf("target srv us/msg <= %.2f x epoll's (%.2f): %s\n", target_cpu_ratio,
              cpu_us_per_msg(epoll->stats),
              verdict(ratio(cpu_us_per_msg(actio.stats), cpu_us_per_msg(epoll->stats)), false,
                      target_cpu_ratio)
                .c_str());
}

} // namespace echo_bench
