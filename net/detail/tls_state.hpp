#pragma once

/// A TLS connection's bookkeeping inside the connection actor (internal;
/// net/connection_tls.cpp). The driver moves ciphertext; the behaviour sees
/// plaintext events with the usual credit and acknowledgement rules:
///
/// 1. Credit: `grant(n)` adds plaintext credit here. The driver gets a
///    ciphertext window (`window`) only while the handshake runs or the
///    behaviour has credit and nothing decrypted is waiting, so at most one
///    window of ciphertext plus one record (`stash`) is held per connection.
/// 2. Writes: plaintext is encrypted at once and its ciphertext sent under
///    an internal op id; `writes` maps that id back to the behaviour's write,
///    which completes when the driver wrote the ciphertext. Handshake and
///    alert records have ids not in the map.
/// 3. Before the handshake finished, writes and shutdowns wait in `pending`
///    (bounded by the write limit) and run in order afterwards, or fail with
///    the connection's error.

#include <cstddef>
#include <deque>
#include <memory>
#include <unordered_map>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/types.hpp"
#include "actio/net/detail/tls_session.hpp"

namespace actio::net::detail {

/// Runs the TLS read loop again (sent to self after a `grant` from a
/// behaviour, so plaintext is never delivered inside another handler).
struct tls_pump {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tls_pump&) {
  return f(caf::meta::type_name("actio.tls_pump"));
}

struct tls_state {
  /// A behaviour's write or shutdown: answered by event (`rp` unset) or
  /// through `rp` (a request from another actor).
  struct op {
    bool shutdown = false;
    op_id id = 0;
    byte_buffer bytes;
    size_t size = 0; // plaintext bytes
    caf::response_promise rp;
    bool has_rp = false;
  };

  /// Ciphertext the driver may read ahead.
  static constexpr size_t window = 64 * 1024;

  std::unique_ptr<tls_session> session;
  bool established = false;
  bool pumping = false;
  bool pump_queued = false;
  bool read_done = false;  // read_closed delivered to the behaviour
  bool eof = false;        // the driver saw EOF (or a read error)
  caf::error eof_reason;   // the driver's read error, if any
  caf::error failure;      // set once the session failed
  caf::error start_error;  // making the session failed
  size_t credit = 0;       // plaintext credit of the behaviour
  size_t cipher_credit = 0; // ciphertext credit outstanding with the driver
  byte_buffer stash;       // decrypted, waiting for credit (≤ one record)
  size_t stash_pos = 0;
  size_t pending_bytes = 0;
  std::deque<op> pending;  // before the handshake finished
  std::unordered_map<op_id, op> writes; // ciphertext op → the write
  op_id timer = 0;         // handshake timeout
  op_id connect_op = 0;    // clients: `connected` waits for the handshake
};

} // namespace actio::net::detail
