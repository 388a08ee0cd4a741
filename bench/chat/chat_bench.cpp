// actio-chat-bench — chat fan-out load generator: many text clients in a
// few rooms, some of them talking, every line counted at every receiver.
// Runs against each --server in turn (the first is the baseline) and prints
// one table with the ratios. No actio, no CAF: plain epoll, one thread.
//
// Per server (and per round):
//   1. --clients connections, spread round-robin over the server's
//      endpoints (a multi-node chat: one endpoint per node), at most 64
//      connects in progress. Client i takes nick <prefix>i and joins room
//      r((i / endpoints) % rooms), so every room has members on every node.
//   2. Joined = each client saw its own "* NICK joined #ROOM". Then probes:
//      one client per (room, endpoint) says "p K"; done when every client
//      heard round K from every endpoint of its room (every node delivers
//      to every member), else round K+1 after 3 s (then 6, 12, ...).
//      Bounded by --join-timeout.
//   3. Clients 0..senders-1 (spread over endpoints and rooms) send for
//      --duration seconds, round-robin, while fewer than --window messages
//      are not yet delivered to every member of their room (closed loop: the
//      servers are not flooded past what they deliver). A message is
//      "m SENDER SEQ ID SEND_NS xxx..." of --size bytes. Every receiver
//      counts it, checks per-sender order, and takes the latency (receipt -
//      SEND_NS, same clock, same process).
//   4. Then it waits (--drain-timeout) until every message reached every
//      member; lost = deliveries due - deliveries made.
// Figures: msgs/s (messages sent), deliveries/s (lines received, i.e. the
// fan-out), p50/p99 latency, server CPU (% of one core, sum over --pids)
// and server CPU µs per delivery, the generator's own CPU.
//
// Usage:
//   actio-chat-bench --server NAME=HOST:PORT[,HOST:PORT...] [--server ...]
//                    [--pids NAME=PID[,PID...]] [options]
//     --clients N        clients per server (default 1000)
//     --rooms R          rooms (default 1: everyone in one room)
//     --senders S        clients that send (default 10)
//     --window W         messages not yet fully delivered (default 32)
//     --size B           bytes of message text (default 64, min ~40)
//     --duration T       seconds of sending per server and round (default 5)
//     --rounds N         rounds over all servers, A B A B... (default 1)
//     --join-timeout T   connect + join + probe limit (default 120)
//     --drain-timeout T  after sending, until all delivered (default 30)
// The script bench/chat/run_chat_bench.sh starts the servers and runs it.
//
// Exit status: 0 ok; 1 a server failed (a client was disconnected, joins or
// probes did not finish, a message was lost or out of order); 2 bad usage.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actio/actors/cli/tool.hpp"
#include "fanout_load.hpp"

namespace {

constexpr const char* prog = "actio-chat-bench";

struct server {
  std::string name;
  std::vector<fanout::endpoint> endpoints;
  std::vector<int> pids;
};

struct row {
  double msgs = 0, deliveries = 0, p50 = 0, p99 = 0, cpu = 0, us = 0, gen = 0;
  uint64_t lost = 0, order = 0, errors = 0;
  int probes = 0;
  double join = 0;
};

const actio::cli::tool tool{prog, "",
                            "Chat fan-out load against one or more chat "
                            "servers; the first --server is the\nbaseline of "
                            "the ratios. See the top of "
                            "bench/chat/chat_bench.cpp."};

[[noreturn]] void help() {
  using actio::cli::option_line;
  std::exit(tool.print_help(
    option_line("--server=NAME=HOST:PORT[,HOST:PORT...]",
                "a server to load (repeatable)")
    + option_line("--pids=NAME=PID[,PID...]",
                  "its processes, for CPU time")
    + option_line("--clients=N", "clients (default 1000)")
    + option_line("--rooms=N", "rooms (default 1)")
    + option_line("--senders=N", "clients that send (default 10)")
    + option_line("--window=N", "messages in flight per sender (default 32)")
    + option_line("--size=N", "bytes per message (default 64)")
    + option_line("--duration=T", "seconds per round (default 5)")
    + option_line("--rounds=N", "rounds per server (default 1)")
    + option_line("--join-timeout=T", "seconds to join (default 120)")
    + option_line("--drain-timeout=T", "seconds to drain (default 30)")));
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in{s};
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty())
      out.push_back(item);
  return out;
}

double number(const std::string& opt, const std::string& v, double min) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(x >= min) || !std::isfinite(x)) {
    std::ostringstream what;
    what << "a number (at least " << min << ")";
    std::exit(tool.bad_value(opt, v, what.str()));
  }
  return x;
}

// utime + stime of `pid` in seconds (all its threads).
double cpu_seconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string content;
  std::getline(in, content);
  auto rparen = content.rfind(')');
  if (rparen == std::string::npos)
    return 0;
  std::istringstream fields{content.substr(rparen + 2)};
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15)
      ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double percentile_ms(std::vector<uint32_t>& v, double q) {
  if (v.empty())
    return 0;
  auto k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k] / 1000.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty())
    return 0;
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<server> servers;
  std::map<std::string, std::vector<int>> pids;
  fanout::load_settings s;
  int rounds = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h")
      help();
    if (arg == "--version")
      return tool.print_version();
    if (arg.empty() || arg[0] != '-')
      return tool.usage_error("extra operand '" + arg + "'");
    static const std::set<std::string> known{
      "--server", "--pids", "--clients", "--rooms", "--senders",
      "--window", "--size", "--duration", "--rounds", "--join-timeout",
      "--drain-timeout"};
    if (!known.count(arg.substr(0, arg.find('='))))
      return tool.unrecognized_option(arg);
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return tool.missing_argument(arg);
    }
    if (arg == "--server" || arg == "--pids") {
      auto eq = value.find('=');
      auto name = value.substr(0, eq == std::string::npos ? 0 : eq);
      auto items = split(value.substr(eq == std::string::npos ? 0 : eq + 1),
                         ',');
      if (name.empty() || items.empty())
        return tool.bad_value(arg, value, arg == "--server"
                                            ? "NAME=HOST:PORT[,HOST:PORT...]"
                                            : "NAME=PID[,PID...]");
      if (arg == "--pids") {
        for (auto& p : items)
          pids[name].push_back(static_cast<int>(number(arg, p, 1)));
        continue;
      }
      server srv{name, {}, {}};
      for (auto& item : items) {
        auto colon = item.rfind(':');
        if (colon == std::string::npos)
          return tool.bad_value(arg, value, "NAME=HOST:PORT[,HOST:PORT...]");
        srv.endpoints.push_back(
          {item.substr(0, colon),
           static_cast<uint16_t>(number(arg, item.substr(colon + 1), 1))});
      }
      servers.push_back(std::move(srv));
    } else if (arg == "--clients") {
      s.clients = static_cast<size_t>(number(arg, value, 1));
    } else if (arg == "--rooms") {
      s.rooms = static_cast<size_t>(number(arg, value, 1));
    } else if (arg == "--senders") {
      s.senders = static_cast<size_t>(number(arg, value, 1));
    } else if (arg == "--window") {
      s.window = static_cast<size_t>(number(arg, value, 1));
    } else if (arg == "--size") {
      s.size = static_cast<size_t>(number(arg, value, 1));
    } else if (arg == "--duration") {
      s.duration = number(arg, value, 0.1);
    } else if (arg == "--rounds") {
      rounds = static_cast<int>(number(arg, value, 1));
    } else if (arg == "--join-timeout") {
      s.join_timeout = number(arg, value, 1);
    } else if (arg == "--drain-timeout") {
      s.drain_timeout = number(arg, value, 0);
    }
  }
  if (servers.empty())
    return tool.usage_error("option '--server' is required");
  for (auto& srv : servers) {
    srv.pids = pids[srv.name];
    if (s.clients < srv.endpoints.size() * s.rooms
        || s.senders > s.clients) {
      return tool.usage_error("need clients >= endpoints x rooms and "
                              "senders <= clients");
    }
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < s.clients + 64)
    std::fprintf(stderr, "%s: warning: open file limit %llu < clients\n",
                 prog, static_cast<unsigned long long>(rl.rlim_cur));

  std::printf("%zu clients, %zu room(s), %zu senders, window %zu, %zu B, "
              "%.1f s x %d round(s)\n",
              s.clients, s.rooms, s.senders, s.window, s.size, s.duration,
              rounds);
  std::fflush(stdout);
  bool ok = true;
  std::vector<std::vector<row>> rows(servers.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t k = 0; k < servers.size(); ++k) {
      auto& srv = servers[k];
      double srv0 = 0, gen0 = 0, srv1 = 0, gen1 = 0;
      auto cpu = [&srv] {
        double sum = 0;
        for (int p : srv.pids)
          sum += cpu_seconds(p);
        return sum;
      };
      s.mark = [&](bool start) {
        (start ? srv0 : srv1) = cpu();
        (start ? gen0 : gen1) = self_cpu_seconds();
      };
      s.nick_prefix = "r" + std::to_string(round) + "c";
      auto r = fanout::run_load(srv.endpoints, s);
      if (!r.ok) {
        std::printf("%-14s round %d FAILED: %s\n", srv.name.c_str(),
                    round + 1, r.error.c_str());
        std::fflush(stdout);
        ok = false;
        continue;
      }
      row x;
      x.msgs = static_cast<double>(r.sent) / r.seconds;
      x.deliveries = static_cast<double>(r.deliveries) / r.seconds;
      x.p50 = percentile_ms(r.latency_us, 0.50);
      x.p99 = percentile_ms(r.latency_us, 0.99);
      x.cpu = 100 * (srv1 - srv0) / r.seconds;
      x.us = r.deliveries ? 1e6 * (srv1 - srv0)
                              / static_cast<double>(r.deliveries)
                          : 0;
      x.gen = 100 * (gen1 - gen0) / r.seconds;
      x.lost = r.expected - std::min(r.expected, r.delivered);
      x.order = r.order_errors;
      x.errors = r.error_lines;
      x.probes = r.probe_rounds;
      x.join = r.join_seconds;
      if (x.lost || x.order || x.errors)
        ok = false;
      std::printf("%-14s round %d: joined in %.1f s (%d probe round(s)), "
                  "%.0f msgs/s, %.0f deliveries/s, lost %llu, order %llu\n",
                  srv.name.c_str(), round + 1, x.join, x.probes, x.msgs,
                  x.deliveries, static_cast<unsigned long long>(x.lost),
                  static_cast<unsigned long long>(x.order));
      std::fflush(stdout);
      rows[k].push_back(x);
    }
  }

  std::printf("\n%-14s %6s %5s %9s %13s %8s %8s %7s %9s %6s %6s %6s\n",
              "server", "ends", "runs", "msgs/s", "deliveries/s", "p50 ms",
              "p99 ms", "srv %", "srv us/d", "gen %", "lost", "order");
  for (size_t k = 0; k < servers.size(); ++k) {
    auto& v = rows[k];
    auto med = [&v](double row::*m) {
      std::vector<double> xs;
      for (auto& x : v)
        xs.push_back(x.*m);
      return median(xs);
    };
    uint64_t lost = 0, order = 0;
    for (auto& x : v) {
      lost += x.lost;
      order += x.order;
    }
    std::printf("%-14s %6zu %5zu %9.0f %13.0f %8.2f %8.2f %7.0f %9.2f %6.0f "
                "%6llu %6llu\n",
                servers[k].name.c_str(), servers[k].endpoints.size(),
                v.size(), med(&row::msgs), med(&row::deliveries),
                med(&row::p50), med(&row::p99), med(&row::cpu),
                med(&row::us), med(&row::gen),
                static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(order));
  }
  if (!rows[0].empty()) {
    auto base = rows[0];
    std::vector<double> bd;
    for (auto& x : base)
      bd.push_back(x.deliveries);
    for (size_t k = 1; k < servers.size(); ++k) {
      std::vector<double> d;
      for (auto& x : rows[k])
        d.push_back(x.deliveries);
      if (!d.empty() && median(bd) > 0)
        std::printf("ratio %s/%s deliveries/s: %.2f\n",
                    servers[k].name.c_str(), servers[0].name.c_str(),
                    median(d) / median(bd));
    }
  }
  std::printf("(srv %%: CPU of the server processes, %% of one core; srv "
              "us/d: their CPU per delivery; gen %%: this generator)\n");
  return ok ? 0 : 1;
}
