// actio-chat: a chat service. Rooms are actors; each client is a connection
// actor speaking either text lines or length-delimited chat.proto frames.
//
// Run:   build/bin/actio-chat --port 7001 [--host 127.0.0.1]
//        (options: --help)
// Try:   nc 127.0.0.1 7001
//          /nick alice
//          /join lobby            -> * alice joined #lobby
//          hello                  -> <alice> hello   (to everyone in #lobby)
//          /list                  -> * rooms: #lobby
//                                    * members of #lobby: alice
//          /leave  /quit
//        build/bin/actio-chat-client --port 7001 --nick bob --room lobby
// Mode:  decided by the first byte a client sends: 0x00 starts a protobuf
//        frame (u32 big-endian length < 16 MiB, then a chat.Request);
//        anything else is a text-line client.
// Limits: lines over --max-line, frames over --max-frame, frames that are no
//        chat.Request and requests beyond --rate/--burst get an error and
//        the client is disconnected. A client whose unsent output exceeds
//        --max-queue bytes (it does not read) is disconnected.
// Stop:  Ctrl-C (SIGINT) or SIGTERM: the port closes, every client gets a
//        shutting_down error and EOF; connections still open after
//        --drain-timeout are closed. Exits 0; a second signal exits 1.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_listener.hpp"
#include "registry.hpp"
#include "session.hpp"

namespace {

struct chat_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 7001;
  double drain_timeout = 5;
  size_t max_line = 1024;
  size_t max_frame = 4096;
  double rate = 20;
  double burst = 40;
  size_t max_queue = 1024 * 1024;
  size_t max_rooms = 1000;
  chat_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "address to listen on (default 127.0.0.1)")
      .add(port, "port,p", "port to listen on, 0 = any (default 7001)")
      .add(max_line, "max-line",
           "longest text line in bytes; longer: error, disconnect "
           "(default 1024)")
      .add(max_frame, "max-frame",
           "largest protobuf frame payload in bytes, < 16 MiB; larger: "
           "error, disconnect (default 4096)")
      .add(rate, "rate",
           "requests per second per client (token bucket), 0 = no limit; "
           "beyond: error, disconnect (default 20)")
      .add(burst, "burst", "requests a client may save up (default 40)")
      .add(max_queue, "max-queue",
           "unsent output bytes per client; beyond: the client is "
           "disconnected (default 1048576)")
      .add(max_rooms, "max-rooms",
           "rooms on this server; more: error (default 1000)")
      .add(drain_timeout, "drain-timeout",
           "seconds a graceful stop waits for clients (default 5)");
  }
};

} // namespace

int main(int argc, char** argv) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  chat_config cfg;
  if (auto err = cfg.parse_args(argc, argv)) {
    std::cerr << "actio-chat: " << to_string(err) << '\n';
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (cfg.max_frame == 0 || cfg.max_frame >= 16 * 1024 * 1024
      || cfg.max_line == 0 || cfg.max_queue == 0) {
    std::cerr << "actio-chat: --max-frame must be 1..16777215, --max-line "
                 "and --max-queue positive\n";
    return 2;
  }
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-chat: " << sys.render(rt.error()) << '\n';
    return 1;
  }
  auto registry = chat::spawn_registry(sys, cfg.max_rooms);
  chat::session_options so;
  so.max_line = cfg.max_line;
  so.max_frame = cfg.max_frame;
  so.rate = cfg.rate;
  so.burst = cfg.burst;
  so.max_queue = cfg.max_queue;
  actio::net::connection_options co;
  // Our own --max-queue check disconnects first; the driver's hard limit
  // is only a backstop.
  co.limits.max_queued = cfg.max_queue + 2 * cfg.max_frame + 64 * 1024;
  co.limits.high_watermark = co.limits.max_queued;
  co.limits.low_watermark = co.limits.max_queued / 2;
  auto srv = actio::net::tcp_listen(
    **rt, {cfg.host, cfg.port},
    [registry, so](actio::net::connection* self) {
      return chat::session(self, registry, so);
    },
    co);
  if (!srv) {
    std::cerr << "actio-chat: " << sys.render(srv.error()) << '\n';
    return 1;
  }
  std::cout << "actio-chat: listening on " << cfg.host << ':' << srv->port
            << " (backend " << (*rt)->backend_name() << ")" << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  auto name = [](int s) { return s == SIGINT ? "SIGINT" : "SIGTERM"; };
  std::cout << "actio-chat: " << name(sig) << ", draining (up to "
            << cfg.drain_timeout << " s; signal again to exit now)"
            << std::endl;
  std::thread{[&] {
    int again = 0;
    sigwait(&stop_signals, &again);
    std::cout << "actio-chat: " << name(again) << " again, exiting now"
              << std::endl;
    std::_Exit(1);
  }}.detach();
  auto deadline = std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double>(std::max(cfg.drain_timeout, 0.0)));
  caf::scoped_actor self{sys};
  self
    ->request(srv->actor, deadline + std::chrono::seconds{30},
              actio::net::drain_atom::value, deadline)
    .receive(
      [](const actio::net::drain_result& r) {
        std::cout << "actio-chat: drained " << r.drained << " client(s), "
                  << r.forced << " closed at the deadline" << std::endl;
      },
      [&](const caf::error& err) {
        std::cout << "actio-chat: drain failed: " << sys.render(err)
                  << std::endl;
      });
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  (*rt)->shutdown();
  return 0;
}
