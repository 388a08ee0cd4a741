#include "actio/net/tls_context.hpp"

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "actio/drivers/errc.hpp"
#include "actio/net/detail/tls_session.hpp"

namespace actio::net {

namespace {

caf::error bad(const std::string& what) {
  return make_actio_error(errc::tls_bad_config, "tls: " + what);
}

/// "cannot load FILE (certificate): REASON", REASON from OpenSSL's queue or
/// from stat() when the file is not there.
caf::error bad_file(const std::string& path, const char* role) {
  std::string why;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    why = "no such file";
  else
    why = detail::openssl_error_text();
  ERR_clear_error();
  return bad("cannot load " + std::string{role} + " " + path + ": " + why);
}

using ctx_ptr = std::shared_ptr<ssl_ctx_st>;

caf::expected<ctx_ptr> make_ctx() {
  ERR_clear_error();
  ctx_ptr ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    return bad("SSL_CTX_new: " + detail::openssl_error_text());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Renegotiation is a DoS lever and a source of confusion: refused (the
  // peer gets a no_renegotiation alert). Idle connections give their
  // record buffers back (memory per idle connection).
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

caf::error load_identity(SSL_CTX* ctx, const tls_config& cfg) {
  if (cfg.cert_file.empty() != cfg.key_file.empty())
    return bad(cfg.cert_file.empty() ? "a key file without a certificate file"
                                     : "a certificate file without a key file");
  if (cfg.cert_file.empty())
    return {};
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1)
    return bad_file(cfg.cert_file, "certificate");
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key_file.c_str(), SSL_FILETYPE_PEM)
      != 1) {
    // OpenSSL checks the pair here already ("key values mismatch").
    if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
      return bad_file(cfg.key_file, "private key");
    ERR_clear_error();
    return bad("the private key " + cfg.key_file
               + " does not match the certificate " + cfg.cert_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return bad("the private key " + cfg.key_file
               + " does not match the certificate " + cfg.cert_file);
  }
  return {};
}

caf::error load_cas(SSL_CTX* ctx, const tls_config& cfg, bool defaults) {
  if (!cfg.ca_file.empty() || !cfg.ca_dir.empty()) {
    const char* file = cfg.ca_file.empty() ? nullptr : cfg.ca_file.c_str();
    const char* dir = cfg.ca_dir.empty() ? nullptr : cfg.ca_dir.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1)
      return bad_file(file ? cfg.ca_file : cfg.ca_dir, "CA");
  } else if (defaults && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return bad("cannot load the system's CA paths: "
               + detail::openssl_error_text());
  }
  return {};
}

/// What servers and clients share: a valid handshake timeout, a context
/// with the protocol settings, the identity (certificate and key), if any.
caf::expected<ctx_ptr> make_base(const tls_config& cfg) {
  if (cfg.handshake_timeout.count() <= 0)
    return bad("the handshake timeout must be > 0");
  auto ctx = make_ctx();
  if (!ctx)
    return ctx.error();
  if (auto err = load_identity(ctx->get(), cfg))
    return err;
  return ctx;
}

} // namespace

caf::expected<tls_context> tls_context::make_server(const tls_config& cfg) {
  if (cfg.cert_file.empty() || cfg.key_file.empty())
    return bad("a server needs a certificate file and a key file");
  auto ctx = make_base(cfg);
  if (!ctx)
    return ctx.error();
  if (cfg.client_auth != tls_client_auth::none) {
    if (cfg.ca_file.empty() && cfg.ca_dir.empty())
      return bad("client certificates need a CA file or directory");
    if (auto err = load_cas(ctx->get(), cfg, false))
      return err;
    if (!cfg.ca_file.empty()) // the CA names sent with the request
      if (auto* names = SSL_load_client_CA_file(cfg.ca_file.c_str()))
        SSL_CTX_set_client_CA_list(ctx->get(), names);
    int mode = SSL_VERIFY_PEER;
    if (cfg.client_auth == tls_client_auth::require)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx->get(), mode, nullptr);
  }
  ERR_clear_error();
  return tls_context{std::move(*ctx), cfg, true};
}

caf::expected<tls_context> tls_context::make_client(const tls_config& cfg) {
  auto ctx = make_base(cfg);
  if (!ctx)
    return ctx.error();
  if (cfg.verify_peer) {
    if (auto err = load_cas(ctx->get(), cfg, true))
      return err;
    SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER, nullptr);
  }
  ERR_clear_error();
  return tls_context{std::move(*ctx), cfg, false};
}

} // namespace actio::net
