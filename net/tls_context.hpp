#pragma once

/// TLS settings for client-facing stream connections (TCP and Unix): a
/// certificate chain and key from PEM files, the CAs that verify the peer,
/// the host name a client checks, client certificates, a handshake timeout.
/// TLS 1.2 is the lowest version offered or accepted.
///
/// ```
/// actio::net::tls_config tc;
/// tc.cert_file = "server.pem";
/// tc.key_file = "server.key";
/// auto tls = actio::net::tls_context::make_server(tc); // files load here
/// if (!tls) ... report tls.error() (it names the file) and exit ...
/// actio::net::connection_options opts;
/// opts.tls = *tls;
/// auto srv = actio::net::tcp_listen(rt, {"127.0.0.1", 7443}, echo, opts);
/// ```
///
/// A context is loaded once (errors come from `make_server` /
/// `make_client`, never at the first connection) and shared by every
/// connection that uses it; copies share the same OpenSSL `SSL_CTX`.

#include <chrono>
#include <memory>
#include <string>

#include <caf/expected.hpp>

struct ssl_ctx_st; // OpenSSL's SSL_CTX: its headers stay out of this one

namespace actio::net {

/// Whether a server asks clients for a certificate.
enum class tls_client_auth {
  none,    ///< no client certificate asked for
  request, ///< asked for; one that is sent must verify
  require, ///< a client without a valid certificate is refused
};

/// What a `tls_context` is made of. Paths name PEM files.
struct tls_config {
  /// Certificate chain (leaf first). Servers: required. Clients: optional,
  /// the client certificate.
  std::string cert_file;
  /// Private key of `cert_file` (unencrypted PEM).
  std::string key_file;
  /// CA certificates that verify the peer. Clients: empty means the
  /// system's default CA paths. Servers: the CAs of client certificates.
  std::string ca_file;
  /// A hashed CA directory (`openssl rehash`), in addition to `ca_file`.
  std::string ca_dir;
  /// Clients: verify the server's certificate and host name (default).
  /// Off only for tests against self-signed servers.
  bool verify_peer = true;
  /// Clients: the name sent as SNI and checked against the certificate
  /// (DNS name or IP address); empty: the host given to `tcp_connect`.
  std::string server_name;
  /// Servers: client certificates (need `ca_file` or `ca_dir`).
  tls_client_auth client_auth = tls_client_auth::none;
  /// The handshake must finish within this, else the connection closes
  /// with `errc::tls_handshake_timeout`.
  std::chrono::milliseconds handshake_timeout{10'000};
};

/// A loaded TLS configuration, for `connection_options::tls`.
class tls_context {
public:
  /// Loads a server context: `cert_file` and `key_file` are required.
  /// @returns `errc::tls_bad_config` naming the file that is missing or
  ///          bad, or a key that does not match the certificate
  static caf::expected<tls_context> make_server(const tls_config& cfg);

  /// Loads a client context (CAs, optional client certificate).
  static caf::expected<tls_context> make_client(const tls_config& cfg);

  bool is_server() const noexcept {
    return server_;
  }

  const tls_config& config() const noexcept {
    return cfg_;
  }

  /// The OpenSSL context (for settings this class does not offer).
  ssl_ctx_st* native_handle() const noexcept {
    return ctx_.get();
  }

private:
  tls_context(std::shared_ptr<ssl_ctx_st> ctx, tls_config cfg, bool server)
    : ctx_(std::move(ctx)), cfg_(std::move(cfg)), server_(server) {
  }

  std::shared_ptr<ssl_ctx_st> ctx_;
  tls_config cfg_;
  bool server_ = false;
};

} // namespace actio::net
