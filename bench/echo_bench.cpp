// actio-echo-bench: alternating rounds, the report and main (see
// echo_bench.hpp for how it works).

#include "echo_bench.hpp"
#include "echo_bench_client.hpp"
#include "echo_bench_process.hpp"

namespace echo_bench {
namespace {

// ---------------------------------------------------------------------------
// One server under test: its process, its client, its figures.

struct Target {
  Target(std::string label, std::string file, bool gets_server_args,
         std::vector<std::string> more = {})
      : name(std::move(label)), binary(std::move(file)), pass_server_args(gets_server_args),
        extra_args(std::move(more)) {}

  std::string name;      // label in the table
  std::string binary;    // file name next to this executable
  bool pass_server_args; // gets --server-args (actio-echo only)
  std::vector<std::string> extra_args; // after them (--also-args)
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<Client> client;
  Stats stats;
  int stalled = 0;
  bool failed = false;
  double idle_cpu = 0;     // server CPU seconds while another server was measured
  double idle_seconds = 0; // wall time of those phases

  void fail(const std::string& msg, std::vector<std::string>& failures) {
    std::fprintf(stderr, "%s: error: %s\n", prog, msg.c_str());
    failures.push_back(msg);
    failed = true;
    client.reset(); // connections go first, then the server is stopped
    server.reset();
  }
};

void start_target(Target& t, const Options& opt, const std::string& dir,
                  std::optional<int> server_cpu) {
  std::string path = t.binary.find('/') == std::string::npos ? dir + "/" + t.binary : t.binary;
  if (access(path.c_str(), X_OK) != 0)
    throw BenchError(path + " not found or not executable (build it first" +
                     std::string(t.pass_server_args ? ", or use --only baseline)" : ")"));
  std::vector<std::string> args = {"--host", loopback, "--port", "0"};
  if (t.pass_server_args)
    args.insert(args.end(), opt.server_args.begin(), opt.server_args.end());
  args.insert(args.end(), t.extra_args.begin(), t.extra_args.end());
  t.server = std::make_unique<ServerProcess>(t.name, path, args, server_cpu);
  uint16_t port = t.server->wait_for_port();
  std::printf("%s (%s) listening on port %u\n", t.name.c_str(), t.binary.c_str(), unsigned{port});
  std::fflush(stdout);
  t.client = std::make_unique<Client>(opt, port, *t.server);
}

// Measures in alternating rounds (A B, B A, A B, ...) so that background
// load drifting on a shared machine hits both servers alike. Only one server
// carries traffic at a time; the idle one should cost nothing, and its CPU
// time is recorded to check that it does not spin.
void measure_rounds(const Options& opt, std::vector<Target>& targets,
                    std::vector<std::string>& failures) {
  const double slice = opt.duration / opt.rounds;
  const double rewarm = std::min(opt.warmup, rewarmup_seconds);
  for (int round = 0; round < opt.rounds; ++round) {
    for (size_t k = 0; k < targets.size(); ++k) {
      Target& t = targets[round % 2 == 0 ? k : targets.size() - 1 - k];
      if (t.failed)
        continue;
      std::vector<std::optional<double>> idle0;
      for (Target& o : targets)
        idle0.push_back(o.failed || &o == &t ? std::nullopt : process_cpu_seconds(o.server->pid()));
      auto t0 = Clock::now();
      try {
        t.client->phase(round == 0 ? opt.warmup : rewarm, slice, t.stats);
      } catch (const BenchError& e) {
        t.fail(e.what(), failures);
      }
      double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      for (size_t j = 0; j < targets.size(); ++j) {
        Target& o = targets[j];
        if (!idle0[j] || o.failed)
          continue;
        if (auto now = process_cpu_seconds(o.server->pid())) {
          o.idle_cpu += *now - *idle0[j];
          o.idle_seconds += wall;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Reporting

double msgs_per_s(const Stats& s) { return s.seconds > 0 ? static_cast<double>(s.messages) / s.seconds : 0; }

// Server CPU time per echoed message, in microseconds (0 if unknown).
double cpu_us_per_msg(const Stats& s) {
  return s.cpu_known && s.messages > 0 ? s.server_cpu / static_cast<double>(s.messages) * 1e6 : 0;
}

void print_table(const Options& opt, std::vector<Target>& targets) {
  std::printf("\n%-9s %11s %9s %9s %9s %11s %8s %11s %8s %8s\n", "server", "msgs/s", "MB/s",
              "p50 us", "p99 us", "messages", "srv CPU%", "srv us/msg", "cli CPU%", "other%");
  for (Target& t : targets) {
    if (t.failed)
      continue;
    Stats& s = t.stats;
    double rate = msgs_per_s(s);
    double p50 = s.latency.quantile_us(0.50);
    double p99 = s.latency.quantile_us(0.99);
    std::printf("%-9s %11.0f %9.2f %9.1f %9.1f %11" PRIu64, t.name.c_str(), rate,
                rate * static_cast<double>(opt.size) / 1e6, p50, p99, s.messages);
    if (s.cpu_known)
      std::printf(" %8.1f %11.2f %8.1f %8.1f\n", s.server_cpu / s.seconds * 100,
                  cpu_us_per_msg(s), s.client_cpu / s.seconds * 100, s.other_cpu / s.seconds * 100);
    else
      std::printf(" %8s %11s %8s %8s\n", "n/a", "n/a", "n/a", "n/a");
  }
  std::printf("(MB/s: echoed payload, one direction; CPU%%: of one core over the measured "
              "windows; other%%: rest of the machine)\n");
  for (Target& t : targets) {
    if (t.failed)
      continue;
    if (t.stalled > 0)
      std::printf("warning: %s: %d connection(s) completed no message while measured\n",
                  t.name.c_str(), t.stalled);
    if (t.idle_seconds > 0 && t.idle_cpu / t.idle_seconds > 0.02)
      std::printf("warning: %s: the idle server used %.0f%% of a core while the other was "
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

// actio+ (--also-args) against actio, measured in the same alternating rounds.
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

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (auto& w : words)
    out += (out.empty() ? "" : " ") + w;
  return out;
}

} // namespace
} // namespace echo_bench

using namespace echo_bench;

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit(2 * opt.connections);

  try {
    std::vector<int> cpus = usable_cpus();
    bool pin = opt.pin.value_or(cpus.size() >= 2);
    std::optional<int> server_cpu;
    if (pin && cpus.size() < 2) {
      std::fprintf(stderr, "%s: warning: fewer than 2 usable CPUs, not pinning\n", prog);
      pin = false;
    }
    if (pin) {
      server_cpu = cpus[0];
      if (!pin_to_cpu(cpus[1]))
        sys_fail("sched_setaffinity(client)");
    }

    std::vector<Target> targets;
    if (opt.run_baseline)
      targets.emplace_back("baseline", "actio-epoll-echo", false);
    if (opt.run_actio)
      targets.emplace_back("actio", "actio-echo", true);
    if (opt.run_actio && opt.also())
      targets.emplace_back("actio+", opt.also_server.empty() ? "actio-echo" : opt.also_server,
                           true, opt.also_args);

    std::string server_args = join_words(opt.server_args);
    std::printf("%s: %d connections, depth %d, %zu B messages; per server: warmup %.1f s, "
                "%.1f s measured in %d round(s)\n",
                prog, opt.connections, opt.depth, opt.size, opt.warmup, opt.duration, opt.rounds);
    if (pin)
      std::printf("pinning: servers on CPU %d, client on CPU %d\n", cpus[0], cpus[1]);
    else
      std::printf("pinning: off\n");
    if (opt.run_actio)
      std::printf("actio-echo args: %s\n", server_args.empty() ? "(none)" : server_args.c_str());
    if (opt.run_actio && opt.also())
      std::printf("actio+ (%s) args: the same and %s\n",
                  opt.also_server.empty() ? "actio-echo" : opt.also_server.c_str(),
                  opt.also_args.empty() ? "nothing else" : join_words(opt.also_args).c_str());
    std::fflush(stdout);

    // Start every server and connect to it; a server that fails is reported
    // and the run goes on with the others (exit status 1).
    std::vector<std::string> failures;
    const std::string dir = self_dir();
    for (Target& t : targets) {
      try {
        start_target(t, opt, dir, server_cpu);
      } catch (const BenchError& e) {
        t.fail(e.what(), failures);
      }
    }

    measure_rounds(opt, targets, failures);

    for (Target& t : targets) {
      if (t.failed)
        continue;
      t.stalled = t.client->stalled_connections();
      t.client.reset(); // connections are closed before the server is stopped
      if (std::string problem = t.server->stop(); !problem.empty()) {
        std::string msg = t.name + " server " + problem;
        std::fprintf(stderr, "%s: error: %s\n", prog, msg.c_str());
        failures.push_back(msg);
      }
    }

    print_table(opt, targets);
    if (opt.also() && opt.run_actio)
      print_also_ratios(targets[targets.size() - 2], targets.back());
    if (opt.run_baseline && opt.run_actio) {
      const Target& base = targets[0];
      const Target& actio = targets[1];
      if (base.failed || actio.failed) {
        std::printf("ratio actio/baseline msgs/s: n/a (a server run failed)\n");
      } else {
        if (cpu_us_per_msg(base.stats) > 0 && cpu_us_per_msg(actio.stats) > 0)
          std::printf("ratio actio/baseline server CPU per msg: %.2f (lower is better)\n",
                      cpu_us_per_msg(actio.stats) / cpu_us_per_msg(base.stats));
        if (msgs_per_s(base.stats) > 0)
          std::printf("ratio actio/baseline msgs/s: %.2f (target >= %.2f)\n",
                      msgs_per_s(actio.stats) / msgs_per_s(base.stats), target_ratio);
        else
          std::printf("ratio actio/baseline msgs/s: n/a (baseline made no progress)\n");
      }
    }
    std::fflush(stdout);
    for (auto& f : failures)
      std::fprintf(stderr, "%s: FAILED: %s\n", prog, f.c_str());
    return failures.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", prog, e.what());
    return 1;
  }
}

