#pragma once

/// An HTTP/1.1 server as a framed connection (io/framed.hpp with
/// http/request_codec.hpp): each request is sent as a message to a
/// handler actor, which answers with a `response` — directly, through a
/// response promise, or by delegating to another actor (CAF's `delegate`).
///
/// ```
/// auto hello = sys.spawn([]() -> caf::behavior {
///   return {[](http::request& req) { return http::response::text(200, "hi"); }};
/// });
/// auto srv = net::tcp_listen(rt, {"127.0.0.1", 8080}, http::server({hello}));
/// ```
///
/// Per connection: keep-alive (HTTP/1.1 by default, HTTP/1.0 when asked
/// with `Connection: keep-alive`); pipelined requests are handled
/// concurrently and answered in order; `Connection: close` closes after
/// that response; HEAD gets the head a GET would; `Expect: 100-continue`
/// gets `100 Continue` (in order) before the body is read; every response
/// gets `Date`, `Content-Length` (or `Transfer-Encoding: chunked`) and, when the connection ends after it,
/// `Connection: close`. A malformed request (request_codec.hpp) is
/// answered with its status and `Connection: close`, and only that
/// connection closes. A request that has not fully arrived within
/// `request_timeout` of the connection being idle gets 408 and the
/// connection closes (an idle one without a partial request just closes).
/// The peer's EOF and a drain answer what was received, then close.
///
/// A response with a `body_source` streams its body: the next piece is
/// pulled only once the previous one was written, so a slow client holds
/// at most one piece (`stream_chunk`) in this server. A body of
/// `unknown_length` is written chunked to HTTP/1.1 clients and ends with the
/// connection for HTTP/1.0 clients.

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actio/actors/metrics.hpp"
#include "actio/http/message.hpp"
#include "actio/http/request_codec.hpp"
#include "actio/http/websocket.hpp"
#include "actio/io/framed_core.hpp"
#include "actio/net/connection.hpp"

namespace actio::http {

/// Responses counted by status class for metrics (`/metrics`):
/// `actio_http_responses_total{server="NAME",code="2xx"}` and so on, one
/// relaxed atomic add per response.
struct response_counters {
  std::array<metrics::counter*, 5> by_class{}; ///< 1xx .. 5xx

  /// The series `server` in `reg` (made once, kept by the registry).
  static std::shared_ptr<const response_counters> in(metrics::registry& reg,
                                                     const std::string& server);

  void count(uint16_t status) const noexcept {
    if (status >= 100 && status < 600)
      by_class[status / 100 - 1]->add();
  }
};

struct server_options {
  /// Gets each `request` and answers a `response` (or an error: 500, or
  /// 504 when it does not answer within `handler_timeout`).
  caf::actor handler;
  limits request_limits;
  /// A whole request must arrive within this of the connection being
  /// ready for it; else 408 and close.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds handler_timeout{60000};
  /// Requests received and not answered yet; one more gets 503 and the
  /// connection closes after the earlier answers.
  size_t max_pipelined = 32;
  /// The most bytes pulled from a `body_source` at a time.
  size_t stream_chunk = 64 * 1024;
  /// After the last response of a closing connection, the client's EOF is
  /// awaited this long (the input is discarded), then it is closed.
  std::chrono::milliseconds linger{5000};
  /// WebSocket limits and allowed origins (http/websocket.hpp).
  websocket_options websocket;
  io::framed_options framed;
  /// Counts the responses by status class (100 Continue included); null:
  /// not counted.
  std::shared_ptr<const response_counters> counters;
};

/// The connection factory for `net::tcp_listen` / `unix_listen`.
net::connection_factory server(server_options opts);

} // namespace actio::http
