#pragma once

// The client's connection to the server: a blocking TCP socket, with TLS
// over it when asked (OpenSSL on the socket itself, no memory BIOs: one
// connection and a poll loop need nothing more).
//
// The poll loop and TLS: poll() sees the socket, not what OpenSSL has
// already read, so the loop asks `buffered()` before it polls; and a TLS
// record that is not application data (a TLS 1.3 session ticket) makes
// `recv` return `nothing_yet` instead of blocking for the next record.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

struct ssl_ctx_st;
struct ssl_st;

namespace chat {

class link {
public:
  /// `recv`'s result when a TLS record carried no application data.
  static constexpr ssize_t nothing_yet = -2;

  /// Connects to `host`:`port` (any address it resolves to); `ok()` says
  /// whether it worked, `error()` why not.
  link(const std::string& host, uint16_t port);
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  bool ok() const {
    return fd_ >= 0 && error_.empty();
  }

  int fd() const {
    return fd_;
  }

  /// Why the last step failed ("TLS handshake with H:P failed: ...").
  const std::string& error() const {
    return error_;
  }

  /// Runs the TLS handshake (TLS 1.2+, as `ctx` says) within `timeout`,
  /// sending `server_name` as SNI (unless it is an IP address) and checking
  /// the certificate against it. @returns false with `error()` set
  bool start_tls(ssl_ctx_st* ctx, const std::string& server_name,
                 std::chrono::seconds timeout);

  /// True if decrypted bytes wait inside OpenSSL (poll would not see them).
  bool buffered() const;

  /// Sends all of `data`. @returns false when the connection failed
  bool send(const std::string& data);

  /// Receives up to `size` bytes. @returns the count; 0 when the server
  /// closed; `nothing_yet`; -1 on error (`error()` says why)
  ssize_t recv(char* buf, size_t size);

private:
  std::string fail(const std::string& what);

  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  std::string peer_; ///< "host:port", for messages
  std::string error_;
};

} // namespace chat
