#pragma once

/// One TLS session over memory BIOs (internal): the connection actor feeds
/// it the ciphertext the driver read and sends the ciphertext it produces,
/// so TLS works the same over every driver backend. Handshake, records,
/// alerts and close_notify are OpenSSL's; this class only moves bytes and
/// turns OpenSSL's outcomes into `actio::errc` errors.

#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actio/drivers/types.hpp"
#include "actio/net/tls_context.hpp"

struct ssl_st;

namespace actio::net::detail {

/// OpenSSL's reason for the oldest error in this thread's queue ("wrong
/// version number"), or "unknown error"; clears the queue.
std::string openssl_error_text();

class tls_session {
public:
  /// Outcome of a `handshake` or `read` step.
  enum class status {
    ok,        ///< handshake done / `read` produced bytes
    want_read, ///< needs more ciphertext (`feed`)
    closed,    ///< `read`: the peer sent close_notify
    failed,    ///< `error()` says why; the session is unusable
  };

  /// @param server_name clients: SNI and the name the certificate must
  ///        carry (DNS name or IP address); ignored when empty
  /// @param peer for error texts ("tls handshake with 127.0.0.1:4000: ...")
  static caf::expected<std::unique_ptr<tls_session>>
  make(const tls_context& ctx, const std::string& server_name,
       std::string peer);

  ~tls_session();

  /// Hands over ciphertext the driver read.
  void feed(const byte_buffer& cipher);

  /// The driver saw EOF: OpenSSL then tells a close_notify from truncation.
  void feed_eof();

  /// Advances the handshake.
  status handshake();

  /// Decrypts up to `max` bytes, appended to `out`.
  status read(byte_buffer& out, size_t max);

  /// Encrypts all of `plain` (memory BIOs never block).
  caf::error write(const byte_buffer& plain);

  /// Queues a close_notify alert.
  void close_notify();

  /// True if ciphertext is waiting to be sent.
  bool has_output() const;

  /// The ciphertext produced so far (handshake, records, alerts).
  byte_buffer take_output();

  /// Ciphertext fed but not yet decrypted.
  size_t pending_input() const;

  /// Why the last step failed (set with `status::failed`).
  const caf::error& error() const noexcept {
    return error_;
  }

  /// "TLSv1.3", for logs.
  std::string version() const;

private:
  tls_session(ssl_st* ssl, bool server, std::string peer);
  status failure(int ret, const char* what);

  ssl_st* ssl_;
  bool server_;
  std::string peer_;
  caf::error error_;
  bool handshake_done_ = false;
};

} // namespace actio::net::detail
