#pragma once

/// Actio's error codes. Every failed request completes with a `caf::error`
/// whose category is `actio` and whose code is one of these; the context
/// carries the operation and the OS reason as readable text.
///
/// In drivers/, the bottom layer, because the drivers' completions carry
/// these codes; the namespace stays `actio`.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace actio {

enum class errc : uint8_t {
  /// The request was cancelled (by close, cancel or shutdown) before it ran.
  cancelled = 1,
  /// The socket or file was already closed when the request arrived.
  closed,
  /// The peer reset the connection (ECONNRESET) or is gone (EPIPE).
  connection_reset,
  /// The peer refused the connection (ECONNREFUSED).
  connection_refused,
  /// A deadline passed.
  timed_out,
  /// The process or system is out of descriptors (EMFILE, ENFILE).
  too_many_files,
  /// The address is in use (EADDRINUSE).
  address_in_use,
  /// The write queue's hard limit would be exceeded.
  write_queue_full,
  /// Malformed argument: bad address, unknown option value, bad handle.
  invalid_argument,
  /// The backend does not offer this operation.
  unsupported,
  /// A backend asked for explicitly is not available on this machine.
  backend_unavailable,
  /// The runtime is shutting down.
  shutting_down,
  /// Any other OS error; the text says which.
  system_error,
  /// No such file or directory (ENOENT).
  not_found,
  /// Permission denied (EACCES, EPERM, EROFS).
  permission_denied,
  /// A directory where a file was expected (EISDIR).
  is_directory,
  /// The disk or quota is full (ENOSPC, EDQUOT).
  no_space,
  /// The file would exceed the size limit (EFBIG, RLIMIT_FSIZE).
  file_too_large,
  /// A line or frame is longer than the configured maximum.
  too_long,
  /// Input that does not parse (a bad frame, a truncated stream).
  malformed,
  /// No route to the host or network (EHOSTUNREACH, ENETUNREACH).
  unreachable,
  /// A host name that does not resolve.
  resolve_failed,
  /// A connection was idle (no reads or writes) for its idle timeout.
  idle_timeout,
  /// No bytes arrived within the read timeout while a read was wanted.
  read_timeout,
  /// Queued writes did not drain within the write timeout.
  write_timeout,
  /// A listener's connection limit was reached; the connection was closed.
  connection_limit,
  /// A datagram was longer than the receive size (MSG_TRUNC).
  truncated,
  /// The client already has as many requests (or bytes) in flight at a
  /// service as it may; the request was refused at once, without running.
  /// Retry after one of the earlier requests has completed.
  too_many_requests,
  /// The address is not one of this host's (EADDRNOTAVAIL): a bind to an
  /// address no interface has, or no free local port for a connect.
  address_not_available,
  /// The actor serving the request failed (its behaviour threw, or it got
  /// a message it cannot handle) and ended; a connection closes with it.
  actor_failed,
  /// The supervised actor that had the request crashed before answering; a
  /// supervisor restarted it (actors/supervisor.hpp): the request may be
  /// sent again.
  restarted,
  /// A supervisor stopped: its children crashed more often than its
  /// intensity allows (actors/supervisor.hpp).
  restart_limit,
  /// The TLS handshake failed: the peer does not speak TLS (plain text to
  /// a TLS port), offers no common version or cipher, or sent an alert.
  tls_handshake_failed,
  /// The TLS handshake did not finish within its timeout.
  tls_handshake_timeout,
  /// The peer's certificate was refused: unknown CA, expired, not for the
  /// expected host name, or missing where one is required.
  tls_verify_failed,
  /// A TLS error after the handshake: a bad record, a renegotiation
  /// attempt, or the peer's EOF without close_notify (truncation).
  tls_error,
  /// A TLS certificate, key or CA file could not be loaded, or the key
  /// does not match the certificate.
  tls_bad_config,
};

std::string to_string(errc x);

/// Maps an errno value to the closest `errc`.
errc errc_from_errno(int err) noexcept;

/// Builds an `actio` error from an errno value, e.g. `("recv", ECONNRESET)`
/// becomes `actio: connection_reset ("recv: Connection reset by peer")`.
caf::error make_errno_error(const char* what, int err);

/// Like `make_errno_error`, naming the file: "open /x: No such file or
/// directory".
caf::error make_path_error(const char* what, const std::string& path, int err);

/// Readable text for any error: "code (context)" for `actio` errors,
/// CAF's rendering otherwise. For logs and command-line tools.
std::string describe(const caf::error& err);

/// Builds an `actio` error with a free-text context.
caf::error make_actio_error(errc code, std::string what);

} // namespace actio

CAF_ERROR_CODE_ENUM(actio::errc, "actio")
