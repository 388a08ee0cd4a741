#pragma once

// Runs one actio client connection (tcp_connect, unix_connect) to its end:
// what `connected` said, the peer it saw, and the echo of `data`.

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "actio/net/connection.hpp"

namespace actio::test {

struct client_outcome {
  caf::error reason;  ///< from `connected`
  std::string peer;   ///< `peer()` once connected
  byte_buffer echoed; ///< what came back (up to data.size() bytes)
};

using client_start
  = std::function<caf::expected<caf::actor>(net::connection_factory)>;

/// Starts a client with `start`, writes `data` once connected, collects
/// data.size() bytes and closes. nullopt if it did not start or end within
/// `timeout`.
inline std::optional<client_outcome>
run_client(const client_start& start, byte_buffer data = {},
           std::chrono::steady_clock::duration timeout = std::chrono::seconds{30}) {
  auto result = std::make_shared<std::promise<client_outcome>>();
  auto fut = result->get_future();
  auto client = start([=](net::connection* self) -> caf::behavior {
    auto out = std::make_shared<client_outcome>();
    self->grant(data.size() + 1);
    return {
      [=](const connected& c) {
        out->reason = c.reason;
        out->peer = self->peer();
        if (c.reason || data.empty()) {
          result->set_value(*out);
          self->close();
          return;
        }
        self->write(data);
      },
      [=](received& in) {
        out->echoed.insert(out->echoed.end(), in.bytes.begin(), in.bytes.end());
        if (out->echoed.size() >= data.size()) {
          result->set_value(*out);
          self->close();
        }
      },
    };
  });
  if (!client)
    return std::nullopt;
  if (fut.wait_for(timeout) != std::future_status::ready)
    return std::nullopt;
  return fut.get();
}

} // namespace actio::test
