#include "actio/net/detail/tls_session.hpp"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "actio/drivers/errc.hpp"

namespace actio::net::detail {

std::string openssl_error_text() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown error";
  if (auto* reason = ERR_reason_error_string(code))
    return reason;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

namespace {

bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1
         || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

} // namespace

caf::expected<std::unique_ptr<tls_session>>
tls_session::make(const tls_context& ctx, const std::string& server_name,
                  std::string peer) {
  ERR_clear_error();
  auto* ssl = SSL_new(ctx.native_handle());
  auto* rbio = BIO_new(BIO_s_mem());
  auto* wbio = BIO_new(BIO_s_mem());
  if (ssl == nullptr || rbio == nullptr || wbio == nullptr) {
    SSL_free(ssl);
    BIO_free(rbio);
    BIO_free(wbio);
    return make_actio_error(errc::tls_error,
                            "tls: SSL_new: " + openssl_error_text());
  }
  BIO_set_mem_eof_return(rbio, -1); // empty means "wait", not EOF
  SSL_set_bio(ssl, rbio, wbio);     // the session owns both now
  std::unique_ptr<tls_session> s{
    new tls_session(ssl, ctx.is_server(), std::move(peer))};
  if (ctx.is_server()) {
    SSL_set_accept_state(ssl);
    return s;
  }
  SSL_set_connect_state(ssl);
  if (!server_name.empty()) {
    bool ip = is_ip_literal(server_name);
    if (!ip) // SNI carries names only (RFC 6066)
      SSL_set_tlsext_host_name(ssl, server_name.c_str());
    if (ctx.config().verify_peer) {
      auto* param = SSL_get0_param(ssl);
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                  : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(), 0);
      if (ok != 1)
        return make_actio_error(errc::invalid_argument,
                                "tls: bad server name '" + server_name + "'");
    }
  }
  return s;
}

tls_session::tls_session(ssl_st* ssl, bool server, std::string peer)
  : ssl_(ssl), server_(server), peer_(std::move(peer)) {
}

tls_session::~tls_session() {
  SSL_free(ssl_);
}

void tls_session::feed(const byte_buffer& cipher) {
  if (!cipher.empty())
    BIO_write(SSL_get_rbio(ssl_), cipher.data(), static_cast<int>(cipher.size()));
}

void tls_session::feed_eof() {
  BIO_set_mem_eof_return(SSL_get_rbio(ssl_), 0);
}

tls_session::status tls_session::handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    return status::ok;
  }
  return failure(ret, "handshake");
}

tls_session::status tls_session::read(byte_buffer& out, size_t max) {
  if (max == 0)
    return status::want_read;
  auto old = out.size();
  out.resize(old + max);
  ERR_clear_error();
  size_t n = 0;
  int ret = SSL_read_ex(ssl_, out.data() + old, max, &n);
  out.resize(old + (ret == 1 ? n : 0));
  if (ret == 1)
    return status::ok;
  return failure(0, "read");
}

caf::error tls_session::write(const byte_buffer& plain) {
  if (plain.empty())
    return {};
  ERR_clear_error();
  size_t n = 0;
  if (SSL_write_ex(ssl_, plain.data(), plain.size(), &n) == 1
      && n == plain.size())
    return {};
  failure(0, "write");
  return error_;
}

void tls_session::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_); // 0: sent, the peer's is not in yet: fine
  ERR_clear_error();
}

bool tls_session::has_output() const {
  return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0;
}

byte_buffer tls_session::take_output() {
  auto* wbio = SSL_get_wbio(ssl_);
  byte_buffer out(BIO_ctrl_pending(wbio));
  if (!out.empty()) {
    auto n = BIO_read(wbio, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  return out;
}

size_t tls_session::pending_input() const {
  return BIO_ctrl_pending(SSL_get_rbio(ssl_));
}

std::string tls_session::version() const {
  return SSL_get_version(ssl_);
}

tls_session::status tls_session::failure(int ret, const char* what) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return status::want_read;
  if (err == SSL_ERROR_ZERO_RETURN)
    return status::closed;
  auto code = ERR_peek_error();
  auto reason = ERR_GET_REASON(code);
  std::string text = openssl_error_text();
  errc kind = handshake_done_ ? errc::tls_error : errc::tls_handshake_failed;
  std::string head = "tls ";
  head += handshake_done_ ? what : "handshake";
  head += " with " + peer_ + ": ";
  auto verify = SSL_get_verify_result(ssl_);
  if (!handshake_done_ && verify != X509_V_OK) {
    kind = errc::tls_verify_failed;
    text = "certificate verify failed: ";
    text += X509_verify_cert_error_string(verify);
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE
             || reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
    kind = errc::tls_verify_failed;
  } else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    text = "the peer closed without close_notify (truncated)";
  } else if (code == 0 && err == SSL_ERROR_SYSCALL) {
    text = "the peer closed the connection";
  }
  error_ = make_actio_error(kind, head + text);
  return status::failed;
}

} // namespace actio::net::detail
