#pragma once

// The echo behaviour of examples/echo, for in-process server tests.

#include "actio/net/connection.hpp"

namespace actio::test {

inline caf::behavior echo_behavior(net::connection* self) {
  self->grant(64 * 1024);
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

} // namespace actio::test
