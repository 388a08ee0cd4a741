#include "actio/proto/detail/tls_peer_identity.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstdio>
#include <map>
#include <mutex>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "actio/drivers/log.hpp"

namespace actio {

namespace {

struct registry {
  std::mutex mtx;
  std::vector<std::string> names;
  std::map<std::string, std::string> expected; // "ip port" -> host
  std::map<std::string, std::string> refusals; // "ip port" -> reason
};

registry& reg() {
  static registry r;
  return r;
}

std::string key(const sockaddr* sa) {
  char ip[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    auto* in = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in->sin6_addr))
      inet_ntop(AF_INET, &in->sin6_addr.s6_addr[12], ip, sizeof(ip));
    else
      inet_ntop(AF_INET6, &in->sin6_addr, ip, sizeof(ip));
    port = ntohs(in->sin6_port);
  }
  return std::string{ip} + " " + std::to_string(port);
}

/// Every "ip port" `host` resolves to.
std::vector<std::string> resolve(const std::string& host, uint16_t port) {
  std::vector<std::string> result;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res)
      != 0)
    return result;
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next)
    result.push_back(key(ai->ai_addr));
  freeaddrinfo(res);
  return result;
}

bool carries(X509* cert, const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, name.c_str(), buf) == 1
      || inet_pton(AF_INET6, name.c_str(), buf) == 1)
    return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  return X509_check_host(cert, name.data(), name.size(), 0, nullptr) == 1;
}

std::string subject(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
  return buf;
}

int verify_peer(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0)
    return preverify_ok;
  auto* ssl = static_cast<SSL*>(
    X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* cert = X509_STORE_CTX_get_current_cert(store);
  if (ssl == nullptr || cert == nullptr)
    return preverify_ok;
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  std::string where = "?";
  if (getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&peer), &len)
      == 0)
    where = key(reinterpret_cast<sockaddr*>(&peer));
  bool incoming = SSL_is_server(ssl) == 1;
  auto& r = reg();
  std::vector<std::string> wanted;
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    if (!r.names.empty()) {
      wanted = r.names;
    } else if (!incoming) {
      auto i = r.expected.find(where);
      if (i != r.expected.end())
        wanted.push_back(i->second);
    }
  }
  if (wanted.empty())
    return 1;
  for (auto& name : wanted)
    if (carries(cert, name))
      return 1;
  std::string list;
  for (auto& name : wanted)
    list += (list.empty() ? "" : ", ") + name;
  auto addr = where;
  if (auto sp = addr.find(' '); sp != std::string::npos)
    addr[sp] = ':';
  auto reason = std::string{incoming ? "incoming node " : "node "} + addr
                + ": certificate (" + subject(cert) + ") names none of: "
                + list;
  if (incoming) {
    log::warn({"node-tls", addr}, "refused {}", reason);
  } else {
    std::lock_guard<std::mutex> guard{r.mtx};
    r.refusals[where] = reason;
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
  return 0;
}

} // namespace

void set_tls_peer_names(std::vector<std::string> names) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.names = std::move(names);
}

void expect_tls_peer(const std::string& host, uint16_t port) {
  auto keys = resolve(host, port);
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  for (auto& k : keys) {
    r.expected[k] = host;
    r.refusals.erase(k);
  }
}

std::string tls_peer_refusal(const std::string& host, uint16_t port) {
  auto keys = resolve(host, port);
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  for (auto& k : keys)
    if (auto i = r.refusals.find(k); i != r.refusals.end())
      return i->second;
  return {};
}

bool tls_peer_identity_active() {
  return dlsym(RTLD_DEFAULT, "SSL_CTX_set_verify")
         == reinterpret_cast<void*>(&SSL_CTX_set_verify);
}

} // namespace actio

extern "C" {

void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb callback) {
  using fn = void (*)(SSL_CTX*, int, SSL_verify_cb);
  static auto real = reinterpret_cast<fn>(dlsym(RTLD_NEXT,
                                                "SSL_CTX_set_verify"));
  // CAF passes no callback; one of its own would be kept.
  if (callback == nullptr && (mode & SSL_VERIFY_PEER) != 0)
    callback = actio::verify_peer;
  real(ctx, mode, callback);
}

} // extern "C"
