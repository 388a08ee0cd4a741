// actio-kv: an in-memory key-value server speaking the Redis protocol
// (RESP2), for a subset of Redis's string commands (README.md).
//
// Run:   build/bin/actio-kv --port 6380 [--host 127.0.0.1]
//        (options: --help; --actio.io.drivers=N, --actio.io.backend=...)
// Try:   redis-cli -p 6380 set greeting hello; redis-cli -p 6380 get greeting
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the port closes, connections answer
//        what they read and end; what is left at --drain-timeout is closed.
//        A second signal exits at once (status 1).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/net/serve.hpp"
#include "actio/net/tcp_listener.hpp"

#include "commands.hpp"
#include "session.hpp"

namespace {

struct kv_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 6380;
  double drain_timeout = 5;
  size_t max_bulk = kv::resp_limits{}.max_bulk;
  size_t max_args = kv::resp_limits{}.max_args;
  size_t max_inline = kv::resp_limits{}.max_inline;
  kv_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 6380)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for connections (default 5)")
      .add(max_bulk, "max-bulk",
           "longest argument in bytes (default 16 MiB)")
      .add(max_args, "max-args",
           "most arguments of one command (default 1048576)")
      .add(max_inline, "max-inline",
           "longest inline command line in bytes (default 65536)");
  }
};

std::atomic<int64_t> clients{0};

} // namespace

int main(int argc, char** argv) {
  actio::net::catch_stop_signals(); // before any thread starts

  actio::cli::tool tool{"actio-kv", "",
                        "In-memory key-value server speaking the Redis "
                        "protocol (RESP2); SIGINT/SIGTERM drain and stop."};
  kv_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv))
    return *status;
  if (auto status = tool.check_operands(cfg.remainder, {}))
    return *status;
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-kv: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  kv::session_options opts;
  opts.store = kv::spawn_store((*rt)->unit(0), &clients);
  opts.limits.max_bulk = cfg.max_bulk;
  opts.limits.max_args = cfg.max_args;
  opts.limits.max_inline = cfg.max_inline;
  opts.limits.max_command = std::max(opts.limits.max_command, 4 * cfg.max_bulk);
  opts.clients = &clients;
  auto srv = actio::net::tcp_listen(**rt, {cfg.host, cfg.port},
                                    kv::session(opts));
  if (!srv) {
    std::cerr << "actio-kv: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  std::cout << "actio-kv: listening on " << cfg.host << ':' << srv->port
            << " (backend " << (*rt)->backend_name() << ", " << (*rt)->drivers()
            << " driver thread(s))" << std::endl;
  auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(cfg.drain_timeout, 0.0)));
  return actio::net::serve(**rt, {srv->actor}, {"actio-kv", drain, &std::cout});
}
