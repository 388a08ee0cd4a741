#pragma once

// The in-process WebSocket server of the websocket_* tests, on each
// backend: `/ws` is the library's echo (http/websocket_echo.hpp); `/flood`
// gets a per-connection actor that, once open, sends `flood_count`
// binary messages of `flood_size` bytes to the connection at once, without
// waiting, and counts the answers (written, or refused with
// write_queue_full); `/bye` gets a per-connection actor that answers a
// text message "N" with `ws_close{N, "bye"}` and records the code of its
// `ws_closed`; any other path is 404.

#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actio/http/server.hpp"
#include "actio/http/websocket.hpp"
#include "actio/http/websocket_echo.hpp"
#include "actio/http/websocket_handshake.hpp"
#include "actio/net/tcp_listener.hpp"
#include "http/ws_client.hpp"
#include "support/fixture.hpp"

namespace actio::test {

struct flood_counts {
  std::atomic<int> written{0};
  std::atomic<int> refused{0}; // write_queue_full
  std::atomic<int> other{0};
};

inline constexpr int flood_count = 256;
inline constexpr size_t flood_size = 64 * 1024;

/// Message i of the flood: its index in the first 4 bytes, then i's byte.
inline std::string flood_message(uint32_t i) {
  std::string s(flood_size, static_cast<char>(i & 0xFF));
  std::memcpy(s.data(), &i, 4);
  return s;
}

inline caf::behavior flooder(caf::event_based_actor* self,
                             std::shared_ptr<flood_counts> counts) {
  return {
    [=](http::ws_opened& o) {
      for (uint32_t i = 0; i < flood_count; ++i)
        self->request(o.connection, caf::infinite,
                      http::ws_message{true, flood_message(i)})
          .then([=]() { ++counts->written; },
                [=](caf::error& err) {
                  if (is_errc(err, errc::write_queue_full))
                    ++counts->refused;
                  else
                    ++counts->other;
                });
    },
    [](http::ws_message&) {}, // (read credit: answered at once)
    [self](const http::ws_closed&) { self->quit(); },
  };
}

/// `ws_closed`'s code at `/bye` (0 until then).
inline caf::behavior closer(caf::event_based_actor* self,
                            std::shared_ptr<std::atomic<int>> closed_code) {
  return {
    [=](http::ws_message& m) {
      auto code = static_cast<uint16_t>(std::stoi(m.data));
      self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                 http::ws_close{code, "bye"});
    },
    [](const http::ws_opened&) {},
    [=](const http::ws_closed& c) {
      *closed_code = c.code;
      self->quit();
    },
  };
}

/// The server's handler (see the top of this file). (Spawned with
/// arguments: CAF 0.17 under UBSan binds a null shared_ptr without.)
inline caf::behavior site(caf::event_based_actor* self, caf::actor echo,
                          std::shared_ptr<flood_counts> counts,
                          std::shared_ptr<std::atomic<int>> closed) {
  return {
    [=](http::request& req) -> caf::result<http::response> {
      if (req.path == "/ws" && http::wants_websocket(req))
        return http::response::accept_websocket(echo);
      if (req.path == "/flood" && http::wants_websocket(req))
        return http::response::accept_websocket(self->spawn(flooder, counts));
      if (req.path == "/bye" && http::wants_websocket(req))
        return http::response::accept_websocket(self->spawn(closer, closed));
      return http::response::text(404, "no\n");
    },
  };
}

class websocket_test : public backend_test {
protected:
  void SetUp() override {
    backend_test::SetUp();
    if (!rt_)
      return;
    echo_ = http::spawn_websocket_echo(sys());
    opts_.handler = sys().spawn(site, echo_, counts_, closed_code_);
    configure(opts_);
    auto srv = net::tcp_listen(rt(), {"127.0.0.1", 0}, http::server(opts_));
    ASSERT_TRUE(srv) << sys().render(srv.error());
    port_ = srv->port;
  }

  void TearDown() override {
    for (auto* a : {&opts_.handler, &echo_})
      if (*a)
        caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
    opts_.handler = echo_ = nullptr;
    backend_test::TearDown();
  }

  /// Adjusts the server's options before it listens.
  virtual void configure(http::server_options&) {
  }

  /// A connection that completed the handshake on `path`.
  std::unique_ptr<ws::conn> open(const std::string& path = "/ws", int rcvbuf = 0) {
    auto c = std::make_unique<ws::conn>(port_);
    if (rcvbuf > 0) {
      ::close(c->fd);
      c->fd = connect_tcp(port_, rcvbuf);
    }
    auto r = ws::handshake(*c, path);
    EXPECT_EQ(r.status, 101) << r.head;
    return c;
  }

  http::server_options opts_;
  caf::actor echo_;
  std::shared_ptr<flood_counts> counts_ = std::make_shared<flood_counts>();
  std::shared_ptr<std::atomic<int>> closed_code_ = std::make_shared<std::atomic<int>>(0);
  uint16_t port_ = 0;
};

} // namespace actio::test
