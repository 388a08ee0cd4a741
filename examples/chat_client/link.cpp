#include "link.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace chat {

namespace {

/// OpenSSL's reason for the oldest error in its queue; clears the queue.
std::string openssl_reason() {
  auto code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unknown error";
}

/// Receive and send timeouts on `fd` (zero: none).
void set_timeouts(int fd, std::chrono::seconds t) {
  timeval tv{static_cast<time_t>(t.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

} // namespace

link::link(const std::string& host, uint16_t port)
  : peer_(host + ":" + std::to_string(port)) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                           &res);
      rc != 0) {
    fail(std::string{"cannot resolve "} + host + ": " + gai_strerror(rc));
    return;
  }
  int err = 0;
  for (auto* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd_ >= 0 && ::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  freeaddrinfo(res);
  if (fd_ < 0)
    fail("cannot connect to " + peer_ + ": " + std::strerror(err));
}

link::~link() {
  if (ssl_ != nullptr) {
    if (error_.empty())
      SSL_shutdown(ssl_); // close_notify; the server's is not waited for
    SSL_free(ssl_);
  }
  if (fd_ >= 0)
    ::close(fd_);
}

std::string link::fail(const std::string& what) {
  if (error_.empty())
    error_ = what;
  return error_;
}

bool link::start_tls(ssl_ctx_st* ctx, const std::string& server_name,
                     std::chrono::seconds timeout) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    fail("TLS: " + openssl_reason());
    return false;
  }
  // Without this, a session ticket record would make SSL_read block for
  // the next record while stdin waits.
  SSL_clear_mode(ssl_, SSL_MODE_AUTO_RETRY);
  // SSL_set1_host checks an IP address as one (OpenSSL 3); SNI carries
  // names only (RFC 6066).
  if (SSL_set1_host(ssl_, server_name.c_str()) != 1) {
    fail("TLS: bad server name '" + server_name + "'");
    return false;
  }
  if (char* ip = X509_VERIFY_PARAM_get1_ip_asc(SSL_get0_param(ssl_)))
    OPENSSL_free(ip);
  else
    SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  set_timeouts(fd_, timeout);
  int ret = SSL_connect(ssl_);
  int saved_errno = errno;
  set_timeouts(fd_, std::chrono::seconds{0});
  if (ret == 1)
    return true;
  std::string why;
  auto verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK)
    why = std::string{"certificate verify failed: "}
          + X509_verify_cert_error_string(verify);
  else if (ERR_peek_error() != 0)
    why = openssl_reason();
  else if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
    why = "no answer within " + std::to_string(timeout.count()) + " s";
  else
    why = "the server closed the connection";
  ERR_clear_error();
  fail("TLS handshake with " + peer_ + " failed: " + why);
  return false;
}

bool link::buffered() const {
  return ssl_ != nullptr && SSL_pending(ssl_) > 0;
}

bool link::send(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    size_t n = 0;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      if (SSL_write_ex(ssl_, data.data() + off, data.size() - off, &n) != 1) {
        int err = SSL_get_error(ssl_, 0);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
          continue; // a blocking socket: the retry makes progress
        fail("TLS write to " + peer_ + ": " + openssl_reason());
        return false;
      }
    } else {
      auto sent = ::send(fd_, data.data() + off, data.size() - off,
                         MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR)
        continue;
      if (sent <= 0) {
        fail("cannot send to " + peer_ + ": " + std::strerror(errno));
        return false;
      }
      n = static_cast<size_t>(sent);
    }
    off += n;
  }
  return true;
}

ssize_t link::recv(char* buf, size_t size) {
  if (ssl_ == nullptr) {
    ssize_t n;
    while ((n = ::recv(fd_, buf, size, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0)
      fail("cannot read from " + peer_ + ": " + std::strerror(errno));
    return n;
  }
  ERR_clear_error();
  size_t n = 0;
  int ret = SSL_read_ex(ssl_, buf, size, &n);
  if (ret == 1)
    return static_cast<ssize_t>(n);
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
    return nothing_yet;
  // close_notify, or an EOF without it: the chat protocol's own end (bye)
  // tells a finished conversation from a cut one.
  auto reason = ERR_GET_REASON(ERR_peek_error());
  if (err == SSL_ERROR_ZERO_RETURN
      || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING
      || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
    ERR_clear_error();
    return 0;
  }
  fail("TLS read from " + peer_ + ": " + openssl_reason());
  return -1;
}

} // namespace chat
