// actio-remote-bench: request/response round trips between two nodes
// (processes on 127.0.0.1), through Actio's node layer (actio::node_config
// + node::publish / node::connect, heartbeats on) and through bare CAF
// (`middleman().publish` / `remote_actor`, default settings), with 1 and
// 32 requests in flight, under CAF's two scheduler policies. Prints
// round trips per second, microseconds per round trip and the ratio
// layer / bare for each case.
//
// Run: build/bin/actio-remote-bench [--n 20000] [--policies stealing,sharing]
// (it starts itself as the serving node: --serve MODE POLICY).

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actio/actors/cli/values.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/proto/node.hpp"
#include "actio/proto/node_guard.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using run_atom = caf::atom_constant<caf::atom("run")>;

caf::behavior pong(caf::event_based_actor*, int /*unused*/) {
  return {[](uint64_t x) { return x; }};
}

/// The same for the node layer, which publishes only actors guarded
/// against remote exit messages (proto/node_guard.hpp).
caf::behavior guarded_pong(actio::node_actor*, int /*unused*/) {
  return {[](uint64_t x) { return x; }};
}

void set_policy(caf::actor_system_config& cfg, const std::string& policy) {
  caf::put(cfg.content, "scheduler.policy", caf::atom_from_string(policy));
}

int serve(const std::string& mode, const std::string& policy) {
  std::cout.setf(std::ios::unitbuf);
  if (mode == "layer") {
    actio::node_config cfg;
    set_policy(cfg, policy);
    if (auto err = cfg.prepare()) {
      std::cerr << actio::describe(err) << '\n';
      return 1;
    }
    caf::actor_system sys{cfg};
    auto p = sys.spawn(guarded_pong, 0);
    auto port = actio::node::publish(sys, p, cfg.node);
    if (port)
      std::cout << *port << std::endl;
    else
      std::cerr << "actio-remote-bench: publish: " << actio::describe(port.error()) << '\n';
    char c;
    while (port && ::read(0, &c, 1) > 0) {
    }
    actio::send_local_exit(sys, p);
    return port ? 0 : 1;
  }
  caf::actor_system_config cfg;
  set_policy(cfg, policy);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto p = sys.spawn(pong, 0);
  auto port = sys.middleman().publish(p, 0, "127.0.0.1");
  if (port)
    std::cout << *port << std::endl;
  char c;
  while (port && ::read(0, &c, 1) > 0) {
  }
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  return port ? 0 : 1;
}

// Keeps `depth` requests in flight until `n` answered; replies the elapsed
// nanoseconds to the run request.
caf::behavior pinger(caf::event_based_actor* self, caf::actor peer) {
  return {
    [=](run_atom, uint64_t n, uint64_t depth) {
      auto rp = std::make_shared<caf::response_promise>(
        self->make_response_promise());
      auto sent = std::make_shared<uint64_t>(0);
      auto done = std::make_shared<uint64_t>(0);
      auto start = clock_type::now();
      auto step = std::make_shared<std::function<void()>>();
      *step = [=] {
        self->request(peer, std::chrono::seconds{30}, (*sent)++)
          .then(
            [=](uint64_t) {
              if (++*done == n) {
                auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            clock_type::now() - start)
                            .count();
                rp->deliver(static_cast<uint64_t>(ns));
                *step = nullptr; // break the cycle
              } else if (*sent < n && *step) {
                (*step)();
              }
            },
            [=](caf::error& err) {
              if (rp->pending())
                rp->deliver(std::move(err));
              *step = nullptr;
            });
      };
      for (uint64_t i = 0; i < depth && i < n; ++i)
        (*step)();
      return *rp;
    },
  };
}

struct server {
  pid_t pid = -1;
  int in = -1; // its stdin: closing it stops the server
  uint16_t port = 0;
};

server start_server(const std::string& mode, const std::string& policy) {
  int to_child[2];
  int from_child[2];
  server s;
  if (::pipe(to_child) != 0 || ::pipe(from_child) != 0)
    return s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    ::close(to_child[1]);
    ::close(from_child[0]);
    ::execl("/proc/self/exe", "actio-remote-bench", "--serve", mode.c_str(),
            policy.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  s.in = to_child[1];
  std::string line;
  char c;
  while (::read(from_child[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  ::close(from_child[0]);
  s.port = static_cast<uint16_t>(std::atoi(line.c_str()));
  return s;
}

void stop_server(server& s) {
  ::close(s.in);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
}

// Round trips per second for (mode, policy, depth), or negative on error.
double measure(const std::string& mode, const std::string& policy,
               uint64_t n, uint64_t depth) {
  auto srv = start_server(mode, policy);
  if (srv.port == 0) {
    std::cerr << "server did not start\n";
    return -1;
  }
  double result = -1;
  auto run = [&](caf::actor_system& sys, caf::actor peer) {
    caf::scoped_actor self{sys};
    auto p = sys.spawn(pinger, peer);
    // Warm up, then measure.
    self->request(p, caf::infinite, run_atom::value, n / 10 + 1, depth)
      .receive([](uint64_t) {}, [](caf::error&) {});
    self->request(p, caf::infinite, run_atom::value, n, depth)
      .receive(
        [&](uint64_t ns) { result = static_cast<double>(n) * 1e9 / ns; },
        [&](caf::error& err) {
          std::cerr << "run failed: " << actio::describe(err) << '\n';
        });
    self->send_exit(p, caf::exit_reason::user_shutdown);
  };
  if (mode == "layer") {
    actio::node_config cfg;
    set_policy(cfg, policy);
    if (!cfg.prepare()) {
      caf::actor_system sys{cfg};
      auto peer = actio::node::connect(sys, "127.0.0.1", srv.port, cfg.node);
      if (peer)
        run(sys, *peer);
    }
  } else {
    caf::actor_system_config cfg;
    set_policy(cfg, policy);
    cfg.load<caf::io::middleman>();
    caf::actor_system sys{cfg};
    auto peer = sys.middleman().remote_actor("127.0.0.1", srv.port);
    if (peer)
      run(sys, *peer);
  }
  stop_server(srv);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "--serve")
    return serve(args[1], args[2]);
  const actio::cli::tool tool{"actio-remote-bench", "",
                              "Remote request/response round trips between "
                              "two nodes (two processes on\n127.0.0.1): "
                              "Actio's node layer vs bare CAF "
                              "publish/remote_actor, 1 and 32\nin flight, per "
                              "scheduler policy."};
  uint64_t n = 20000;
  std::vector<std::string> policies{"stealing", "sharing"};
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h")
      return tool.print_help(
        actio::cli::option_line("--n=ROUND_TRIPS",
                                "round trips per measurement (default 20000)")
        + actio::cli::option_line("--policies=LIST",
                                  "scheduler policies (default "
                                  "stealing,sharing)"));
    if (arg == "--version")
      return tool.print_version();
    if (arg.empty() || arg[0] != '-')
      return tool.usage_error("extra operand '" + arg + "'");
    auto name = arg.substr(0, arg.find('='));
    if (name != "--n" && name != "--policies")
      return tool.unrecognized_option(arg);
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos)
      value = arg.substr(eq + 1);
    else if (i + 1 < args.size())
      value = args[++i];
    else
      return tool.missing_argument(name);
    if (name == "--n") {
      constexpr long long most = 1LL << 40;
      auto v = actio::cli::parse_integer(value, 1, most);
      if (!v)
        return tool.bad_value(name, value, actio::cli::integer_range(1, most));
      n = static_cast<uint64_t>(*v);
      continue;
    }
    policies.clear();
    size_t start = 0;
    for (;;) {
      auto comma = value.find(',', start);
      policies.push_back(value.substr(start, comma - start));
      if (policies.back() != "stealing" && policies.back() != "sharing")
        return tool.bad_value(name, value, "a list of stealing, sharing");
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("%-9s %5s %14s %14s %8s %8s %7s\n", "policy", "depth",
              "layer rt/s", "bare rt/s", "layer us", "bare us", "ratio");
  for (auto& policy : policies) {
    for (uint64_t depth : {uint64_t{1}, uint64_t{32}}) {
      auto layer = measure("layer", policy, n, depth);
      auto bare = measure("bare", policy, n, depth);
      std::printf("%-9s %5llu %14.0f %14.0f %8.1f %8.1f %7.2f\n",
                  policy.c_str(), static_cast<unsigned long long>(depth),
                  layer, bare, 1e6 * static_cast<double>(depth) / layer,
                  1e6 * static_cast<double>(depth) / bare, layer / bare);
      std::fflush(stdout);
    }
  }
  return 0;
}
