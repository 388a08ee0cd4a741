// actio-echo-bench: the servers under test, the rounds and main (see
// echo_bench.hpp for how it works; the report is echo_bench_report.cpp).

#include "echo_bench_target.hpp"

namespace echo_bench {
namespace {

void start_target(Target& t, const Options& opt, const std::string& dir,
                  std::optional<int> server_cpu) {
  std::string path = t.binary.find('/') == std::string::npos ? dir + "/" + t.binary : t.binary;
  if (access(path.c_str(), X_OK) != 0)
    throw BenchError(path + " not found or not executable (build it first" +
                     std::string(t.pass_server_args ? ", or use --only baseline)"
                                 : t.baseline       ? ", or leave it out of --baselines)"
                                                    : ")"));
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

// Measures in rounds that visit every server, in an order reversed from one
// round to the next (A B C, C B A, ...), so that background load drifting on
// a shared machine hits all servers alike and none is always first after
// another's load. Only one server carries traffic at a time; the idle ones
// should cost nothing, and their CPU time is recorded to check that they do
// not spin.
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

// The baselines to run: --baselines, or every one whose program is in `dir`.
std::vector<const Baseline*> chosen_baselines(const Options& opt, const std::string& dir) {
  std::vector<const Baseline*> out;
  if (!opt.run_baselines)
    return out;
  for (const Baseline& b : baselines) {
    bool wanted = opt.baseline_names.empty()
                    ? access((dir + "/" + b.binary).c_str(), X_OK) == 0
                    : std::find(opt.baseline_names.begin(), opt.baseline_names.end(), b.name) !=
                        opt.baseline_names.end();
    if (wanted)
      out.push_back(&b);
  }
  return out;
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

    const std::string dir = self_dir();
    std::vector<Target> targets;
    for (const Baseline* b : chosen_baselines(opt, dir))
      targets.emplace_back(b->name, b->binary, false, true);
    if (!opt.run_actio && targets.empty())
      throw BenchError("no baseline server found next to this program (build them first)");
    if (opt.run_actio)
      targets.emplace_back("actio", "actio-echo", true, false);
    if (opt.run_actio && opt.also())
      targets.emplace_back("actio+", opt.also_server.empty() ? "actio-echo" : opt.also_server,
                           true, false, opt.also_args);
    // Every client keeps its connections open for the whole run.
    raise_fd_limit(opt.connections * static_cast<int>(targets.size()));

    std::string server_args = join_words(opt.server_args);
    std::printf("%s: %d connections, depth %d, %zu B messages; per server: warmup %.1f s, "
                "%.1f s measured in %d round(s)\n",
                prog, opt.connections, opt.depth, opt.size, opt.warmup, opt.duration, opt.rounds);
    if (pin)
      std::printf("pinning: servers on CPU %d, client on CPU %d\n", cpus[0], cpus[1]);
    else
      std::printf("pinning: off\n");
    std::string names;
    for (const Target& t : targets)
      if (t.baseline)
        names += (names.empty() ? "" : ", ") + t.name + " (" + t.binary + ")";
    std::printf("baselines: %s\n", names.empty() ? "none" : names.c_str());
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
    print_baseline_ratios(targets, opt.depth);
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

