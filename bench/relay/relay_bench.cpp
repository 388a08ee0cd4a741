// actio-relay-bench: bulk bytes through a chain of `net::tcp_proxy` hops.
//
// A client (plain blocking sockets: one thread writes, one reads) sends
// SIZE MiB through HOPS proxies to an echo server and reads them back; the
// proxies and the echo server run in one actio runtime with one driver
// thread. Every backend this build and machine offer runs the same chain,
// ROUNDS times, interleaved (uring, epoll, ..., uring, epoll, ...), each in
// a fresh runtime. Printed per backend: median and best MiB/s (bytes sent
// one way per wall second), process CPU per MiB (all threads, the client's
// included: the same for every backend) and each backend's ratio of
// medians to epoll's. Every byte read back is checked against what was
// sent; a mismatch or a short echo is exit status 1. Each round first
// pushes 1 MiB through the chain untimed (one-time costs out of the way).
//
// Run: build/bin/actio-relay-bench [--size MiB] [--hops N] [--rounds N]
//                                   [--backends a,b]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/cli/args.hpp"
#include "actio/actors/cli/values.hpp"
#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/select.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/tcp_proxy.hpp"

namespace {

using namespace actio;
using clock_type = std::chrono::steady_clock;

const cli::tool tool{"actio-relay-bench", "",
                     "Bulk bytes through a chain of tcp_proxy hops to an "
                     "echo server and back,\nevery backend in the same "
                     "run, interleaved rounds, medians."};

void print_help() {
  tool.print_help(
    "  --size MiB        bytes sent (and echoed back) per round (default 64)\n"
    "  --hops N          proxies between client and echo server (default 3)\n"
    "  --rounds N        rounds per backend (default 5)\n"
    "  --backends LIST   comma-separated (default: every available one)\n");
}

struct options {
  size_t mib = 64;
  int hops = 3;
  int rounds = 5;
  std::vector<std::string> backends = available_backends();
};

/// Bytes per client send and recv.
constexpr size_t chunk = 64 * 1024;

/// The byte at stream position `i`: a pattern with period 251 (prime), so
/// a lost, repeated or reordered chunk does not line up again.
uint8_t pattern(uint64_t i) {
  return static_cast<uint8_t>(i % 251);
}

caf::behavior echo(net::connection* self) {
  self->grant(256 * 1024);
  return {
    [=](received& in) { self->write(std::move(in.bytes)); },
    [=](const write_completed& out) {
      if (out.reason)
        self->close();
      else
        self->grant(out.bytes);
    },
    [=](const read_closed&) { self->shutdown_write(); },
    [=](const shutdown_completed&) { self->close(); },
  };
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct round_result {
  bool ok = false;
  std::string error;
  double seconds = 0;
  double cpu = 0;
};

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Sends `total` bytes on `fd` and shuts the write side; reads everything
/// back and checks it. Runs in the calling thread (reader) and one more.
round_result pump(int fd, uint64_t total) {
  round_result res;
  std::thread writer{[fd, total] {
    std::vector<uint8_t> buf(chunk);
    uint64_t sent = 0;
    while (sent < total) {
      auto n = std::min<uint64_t>(chunk, total - sent);
      for (size_t i = 0; i < n; ++i)
        buf[i] = pattern(sent + i);
      size_t off = 0;
      while (off < n) {
        auto w = ::send(fd, buf.data() + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
          return;
        off += static_cast<size_t>(w);
      }
      sent += n;
    }
    ::shutdown(fd, SHUT_WR);
  }};
  std::vector<uint8_t> buf(chunk);
  uint64_t got = 0;
  bool match = true;
  for (;;) {
    auto n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n && match; ++i)
      match = buf[static_cast<size_t>(i)] == pattern(got + static_cast<uint64_t>(i));
    got += static_cast<uint64_t>(n);
  }
  writer.join();
  if (!match)
    res.error = "echoed bytes differ from the bytes sent";
  else if (got != total)
    res.error = "echoed " + std::to_string(got) + " of " + std::to_string(total)
                + " bytes";
  res.ok = res.error.empty();
  return res;
}

round_result run_round(const options& opt, const std::string& backend) {
  round_result res;
  config cfg;
  caf::put(cfg.content, "actio.io.backend", backend);
  caf::put(cfg.content, "actio.io.drivers", size_t{1});
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  if (!rt) {
    res.error = sys.render(rt.error());
    return res;
  }
  auto server = net::tcp_listen(**rt, {"127.0.0.1", 0}, echo);
  if (!server) {
    res.error = sys.render(server.error());
    (*rt)->shutdown();
    return res;
  }
  auto port = server->port;
  for (int h = 0; h < opt.hops; ++h) {
    auto p = net::tcp_proxy(**rt, {"127.0.0.1", 0}, "127.0.0.1", port);
    if (!p) {
      res.error = sys.render(p.error());
      (*rt)->shutdown();
      return res;
    }
    port = p->port;
  }
  // Warm-up through the same chain, not timed: the backends' one-time
  // costs (io_uring maps its 16 MiB of provided buffers at the first
  // stream recv) are not what this measures.
  if (int warm = connect_to(port); warm >= 0) {
    auto w = pump(warm, uint64_t{1} << 20);
    ::close(warm);
    if (!w.ok) {
      (*rt)->shutdown();
      w.error = "warm-up: " + w.error;
      return w;
    }
  }
  int fd = connect_to(port);
  if (fd < 0) {
    res.error = std::string{"connect: "} + std::strerror(errno);
    (*rt)->shutdown();
    return res;
  }
  auto total = static_cast<uint64_t>(opt.mib) << 20;
  auto cpu0 = process_cpu_seconds();
  auto t0 = clock_type::now();
  res = pump(fd, total);
  res.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  res.cpu = process_cpu_seconds() - cpu0;
  ::close(fd);
  (*rt)->shutdown();
  return res;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

int to_int(const std::string& name, const std::string& val, long long most) {
  auto num = cli::parse_integer(val, 1, most);
  if (!num)
    std::exit(tool.bad_value(name, val, cli::integer_range(1, most)));
  return static_cast<int>(*num);
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (cli::args a{tool, argc, argv}; a.next();) {
    a.exit_on_help_or_version(print_help);
    if (a.arg() == "--size")
      opt.mib = static_cast<size_t>(to_int("--size", a.value(), 1 << 20));
    else if (a.arg() == "--hops")
      opt.hops = to_int("--hops", a.value(), 64);
    else if (a.arg() == "--rounds")
      opt.rounds = to_int("--rounds", a.value(), 1000);
    else if (a.arg() == "--backends") {
      auto list = a.value();
      opt.backends = split_list(list);
      auto avail = available_backends();
      for (auto& b : opt.backends)
        if (std::find(avail.begin(), avail.end(), b) == avail.end())
          return tool.usage_error("--backends: '" + b
                                  + "' is not an available backend");
      if (opt.backends.empty())
        return tool.usage_error("--backends: '" + list + "' names no backend");
    } else
      a.reject();
  }
  std::printf("relay: %zu MiB each way through %d tcp_proxy hop(s) to an "
              "echo server, one driver thread, %d rounds (interleaved; "
              "medians)\n",
              opt.mib, opt.hops, opt.rounds);
  std::fflush(stdout);
  auto nb = opt.backends.size();
  std::vector<std::vector<double>> mibs(nb), cpu_per_mib(nb);
  bool ok = true;
  for (int r = 0; r < opt.rounds; ++r)
    for (size_t b = 0; b < nb; ++b) {
      auto res = run_round(opt, opt.backends[b]);
      if (!res.ok) {
        std::fprintf(stderr, "actio-relay-bench: %s, round %d: %s\n",
                     opt.backends[b].c_str(), r + 1, res.error.c_str());
        ok = false;
        continue;
      }
      mibs[b].push_back(static_cast<double>(opt.mib) / res.seconds);
      cpu_per_mib[b].push_back(res.cpu * 1e3 / static_cast<double>(opt.mib));
    }
  double epoll_mibs = 0;
  double epoll_cpu = 0;
  for (size_t b = 0; b < nb; ++b)
    if (opt.backends[b] == "epoll" && !mibs[b].empty()) {
      epoll_mibs = median(mibs[b]);
      epoll_cpu = median(cpu_per_mib[b]);
    }
  for (size_t b = 0; b < nb; ++b) {
    if (mibs[b].empty())
      continue;
    auto m = median(mibs[b]);
    auto c = median(cpu_per_mib[b]);
    std::printf("  %-6s median %8.1f MiB/s  best %8.1f MiB/s  CPU %6.2f ms/MiB",
                opt.backends[b].c_str(), m,
                *std::max_element(mibs[b].begin(), mibs[b].end()), c);
    if (epoll_mibs > 0)
      std::printf("  vs epoll: %.2fx throughput, %.2fx CPU", m / epoll_mibs,
                  c / epoll_cpu);
    std::printf("\n");
  }
  return ok ? 0 : 1;
}
