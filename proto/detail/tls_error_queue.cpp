#include "actio/proto/detail/tls_error_queue.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F>
F openssl(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

// Plain storage, never destroyed: TLS calls of CAF's threads may still run
// while the process exits (static destructors).
std::mutex failure_mutex;
char last_failure[256];

/// After a TLS call that returned `rc`: keeps the reason of a failure (the
/// queue is empty when the call merely has to wait for the socket).
int noting(int rc) {
  if (rc > 0)
    return rc;
  if (auto code = ERR_peek_error(); code != 0) {
    std::lock_guard<std::mutex> guard{failure_mutex};
    ERR_error_string_n(code, last_failure, sizeof(last_failure));
  }
  return rc;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = openssl<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return noting(real(ssl, buf, num));
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real = openssl<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto real = openssl<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return noting(real(ssl));
}

int SSL_connect(SSL* ssl) {
  static auto real = openssl<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return noting(real(ssl));
}

} // extern "C"

namespace actio {

std::string last_tls_failure() {
  std::lock_guard<std::mutex> guard{failure_mutex};
  return last_failure;
}

bool tls_error_queue_fix_active() {
  return dlsym(RTLD_DEFAULT, "SSL_read")
         == reinterpret_cast<void*>(&SSL_read);
}

} // namespace actio
