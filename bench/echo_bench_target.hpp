// actio-echo-bench: one server under test — its process, its client, its
// figures — and the report over all of them (echo_bench_report.cpp). See
// echo_bench.hpp.

#pragma once

#include "echo_bench.hpp"
#include "echo_bench_client.hpp"
#include "echo_bench_process.hpp"

namespace echo_bench {

struct Target {
  Target(std::string label, std::string file, bool gets_server_args, bool is_baseline,
         std::vector<std::string> more = {})
      : name(std::move(label)), binary(std::move(file)), pass_server_args(gets_server_args),
        baseline(is_baseline), extra_args(std::move(more)) {}

  std::string name;      // label in the table: epoll, uring, uv, tokio, actio, actio+
  std::string binary;    // file name next to this executable, or a path
  bool pass_server_args; // gets --server-args (actio-echo only)
  bool baseline;         // one of `baselines` (the ratios are actio's to it)
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

// The table of figures and the warnings (idle server spinning, noisy
// machine, saturated client).
void print_table(const Options& opt, const std::vector<Target>& targets);

// actio+ (--also-args, --also-server) against actio.
void print_also_ratios(const Target& actio, const Target& plus);

// actio against each baseline that ran, and the issue-16 targets (the
// pipelined ones when `depth` is target_pipelined_depth).
void print_baseline_ratios(const std::vector<Target>& targets, int depth);

} // namespace echo_bench
