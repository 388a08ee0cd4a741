#pragma once

// The in-process HTTP server of the server tests (server_test.cpp,
// chunked_response_test.cpp): a handler with /hello, /echo, /slow (answered
// after later requests), /never, /held (answered "late" on (release_atom,
// held_atom)), /fail, /stream?N (N bytes of known length)
// and /chunked?N (N bytes of unknown length: written chunked), listening
// on 127.0.0.1 on each backend.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "actio/http/server.hpp"
#include "actio/net/tcp_listener.hpp"
#include "http/http_client.hpp"
#include "support/fixture.hpp"
#include "support/net_client.hpp"

namespace actio::test {

using namespace std::chrono_literals;

using release_atom = caf::atom_constant<caf::atom("release")>;
using held_atom = caf::atom_constant<caf::atom("held")>;

/// Bytes of the streamed body: byte i is i % 251; empty at the end.
inline caf::behavior generator(caf::event_based_actor*, uint64_t total,
                        std::shared_ptr<std::atomic<uint64_t>> produced) {
  auto pos = std::make_shared<uint64_t>(0);
  return {
    [=](http::pull_atom, uint64_t max) {
      auto n = std::min(max, total - *pos);
      byte_buffer b(n);
      for (auto& x : b)
        x = static_cast<uint8_t>((*pos)++ % 251);
      *produced += n;
      return b;
    },
  };
}

struct handler_state {
  std::deque<caf::response_promise> slow;
  std::vector<caf::response_promise> never;
  std::deque<caf::response_promise> held;
};

inline caf::behavior handler(caf::event_based_actor* self,
                      std::shared_ptr<std::atomic<uint64_t>> produced) {
  auto st = std::make_shared<handler_state>();
  return {
    [=](http::request& req) -> caf::result<http::response> {
      if (req.path == "/hello")
        return http::response::text(200, "Hello, World!");
      if (req.path == "/echo") {
        http::response r;
        r.body = req.body;
        return r;
      }
      if (req.path == "/slow") { // answered after later requests
        st->slow.push_back(self->make_response_promise());
        self->delayed_send(self, 150ms, release_atom::value);
        return caf::delegated<http::response>{};
      }
      if (req.path == "/held") {
        st->held.push_back(self->make_response_promise());
        return caf::delegated<http::response>{};
      }
      if (req.path == "/never") {
        st->never.push_back(self->make_response_promise());
        return caf::delegated<http::response>{};
      }
      if (req.path == "/stream") {
        http::response r;
        r.body_length = std::stoull(req.query);
        r.body_source = self->spawn(generator, r.body_length, produced);
        return r;
      }
      if (req.path == "/chunked") { // the source's empty answer ends it
        http::response r;
        r.body_length = http::unknown_length;
        r.body_source = self->spawn(generator, std::stoull(req.query), produced);
        return r;
      }
      if (req.path == "/fail")
        return caf::make_error(caf::sec::invalid_argument);
      return http::response::text(404, "no\n");
    },
    [=](release_atom, held_atom) {
      st->held.front().deliver(http::response::text(200, "late"));
      st->held.pop_front();
    },
    [=](release_atom) {
      st->slow.front().deliver(http::response::text(200, "slow"));
      st->slow.pop_front();
    },
  };
}

class http_server_test : public backend_test {
protected:
  void SetUp() override {
    backend_test::SetUp();
    if (!rt_)
      return;
    opts_.handler = sys().spawn(handler, produced_);
    start();
  }

  void TearDown() override {
    if (opts_.handler)
      caf::anon_send_exit(opts_.handler, caf::exit_reason::user_shutdown);
    opts_.handler = nullptr; // (the actor system waits for every actor)
    backend_test::TearDown();
  }

  void start() {
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, http::server(opts_));
    ASSERT_TRUE(srv) << sys().render(srv.error());
    port_ = srv->port;
  }

  std::string get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
  }

  /// GETs `path` (64 MiB from the generator) without reading until the
  /// source stops (backpressure: it ran less than 24 MiB ahead), then reads
  /// the whole body byte-exact; the connection stays usable.
  void read_slowly(const std::string& path) {
    const uint64_t total = 64 * 1024 * 1024;
    http_client::conn c{port_};
    ASSERT_TRUE(c.send(get(path + "?" + std::to_string(total))));
    uint64_t last = 0;
    wait_until(
      [&] {
        auto now = produced_->load();
        bool still = now == last && now > 0;
        last = now;
        if (!still)
          std::this_thread::sleep_for(200ms); // (sampling, not synchronising)
        return still;
      },
      20s);
    EXPECT_LT(produced_->load(), 24u * 1024 * 1024) << "the source ran ahead";
    auto r = c.read(false, 120s);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), total);
    for (uint64_t i = 0; i < total; i += 4099)
      ASSERT_EQ(static_cast<uint8_t>(r.body[i]), i % 251) << i;
    ASSERT_TRUE(c.send(get("/hello"))); // still keep-alive
    EXPECT_EQ(c.read().body, "Hello, World!");
  }

  http::server_options opts_;
  std::shared_ptr<std::atomic<uint64_t>> produced_
    = std::make_shared<std::atomic<uint64_t>>(0);
  uint16_t port_ = 0;
};

} // namespace actio::test
