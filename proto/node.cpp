#include "actio/proto/node.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/proto/detail/basp_guard.hpp"
#include "actio/proto/detail/proto_types.hpp"
#include "actio/proto/detail/tls_error_queue.hpp"
#include "actio/proto/detail/tls_peer_identity.hpp"
#include "actio/proto/node_guard.hpp"

namespace actio {

namespace {

constexpr uint64_t min_message_size = uint64_t{64} << 10;

caf::error invalid(std::string what) {
  return make_actio_error(errc::invalid_argument, std::move(what));
}

/// The newest OpenSSL error as text ("" if none); clears the queue.
std::string ssl_error() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    result = buf;
  }
  return result;
}

std::string with_reason(std::string what) {
  auto reason = ssl_error();
  if (!reason.empty()) {
    what.append(": ");
    what.append(reason);
  }
  return what;
}

struct file_closer {
  void operator()(FILE* f) const noexcept {
    std::fclose(f);
  }
};
using file_ptr = std::unique_ptr<FILE, file_closer>;

struct x509_free {
  void operator()(X509* x) const noexcept {
    X509_free(x);
  }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

struct key_free {
  void operator()(EVP_PKEY* k) const noexcept {
    EVP_PKEY_free(k);
  }
};
using key_ptr = std::unique_ptr<EVP_PKEY, key_free>;

/// Never prompts on a terminal: no passphrase given means none.
int passphrase_cb(char* buf, int size, int, void* user) {
  auto* pass = static_cast<const std::string*>(user);
  if (pass->empty() || size <= 0)
    return 0;
  auto n = std::min(pass->size(), static_cast<size_t>(size));
  std::memcpy(buf, pass->data(), n);
  return static_cast<int>(n);
}

caf::expected<file_ptr> open_file(const char* what, const std::string& path) {
  file_ptr f{std::fopen(path.c_str(), "r")};
  if (!f) {
    std::string msg = what;
    msg.append(" ");
    msg.append(path);
    msg.append(": ");
    msg.append(std::strerror(errno));
    return invalid(std::move(msg));
  }
  return f;
}

/// A literal loopback address, or "localhost" (what a plain port may use).
bool is_loopback(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  auto text = host;
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string named(const char* what, const std::string& path) {
  std::string msg = what;
  msg.append(" ");
  msg.append(path);
  return msg;
}

} // namespace

caf::error validate_node_options(const node_options& opts) {
  ERR_clear_error();
  if (opts.max_message_size < min_message_size)
    return invalid("actio.node.max-message-size must be at least "
                   + std::to_string(min_message_size) + " bytes");
  if (!opts.secure) {
    if (!opts.certificate.empty() || !opts.key.empty() || !opts.cafile.empty()
        || !opts.passphrase.empty())
      return invalid("TLS files given without actio.node.secure "
                     "(add --actio.node.secure or drop them)");
    if (!opts.peer_names.empty())
      return invalid("actio.node.peer-names needs actio.node.secure");
    if (!opts.insecure && !is_loopback(opts.host))
      return invalid("a plain node port on '"
                     + (opts.host.empty() ? std::string{"every interface"}
                                          : opts.host)
                     + "' lets anyone who reaches it in; use TLS "
                       "(actio.node.secure), a loopback address, or say "
                       "--actio.node.insecure");
    return caf::none;
  }
  std::string missing;
  auto need = [&](const std::string& value, const char* name) {
    if (value.empty()) {
      if (!missing.empty())
        missing.append(", ");
      missing.append(name);
    }
  };
  need(opts.certificate, "actio.node.certificate");
  need(opts.key, "actio.node.key");
  need(opts.cafile, "actio.node.cafile");
  if (!missing.empty()) {
    std::string msg = "secure node needs certificate, key and CA file; "
                      "missing: ";
    msg.append(missing);
    return invalid(std::move(msg));
  }
  // The certificate.
  auto cf = open_file("certificate", opts.certificate);
  if (!cf)
    return cf.error();
  x509_ptr cert{PEM_read_X509(cf->get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return invalid(with_reason(named("no PEM certificate in",
                                     opts.certificate)));
  // The key, and that it belongs to the certificate.
  auto kf = open_file("key", opts.key);
  if (!kf)
    return kf.error();
  key_ptr key{PEM_read_PrivateKey(kf->get(), nullptr, passphrase_cb,
                                  const_cast<std::string*>(&opts.passphrase))};
  if (!key)
    return invalid(with_reason(named(
      "no usable PEM private key (wrong or missing passphrase?) in",
      opts.key)));
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return invalid(with_reason("key " + opts.key
                               + " does not match certificate "
                               + opts.certificate));
  // The CA file, and that it signed the certificate.
  if (auto caf_ = open_file("CA file", opts.cafile); !caf_)
    return caf_.error();
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store{X509_STORE_new(),
                                                           X509_STORE_free};
  if (!store || X509_STORE_load_file(store.get(), opts.cafile.c_str()) != 1)
    return invalid(with_reason(named("no PEM CA certificate in",
                                     opts.cafile)));
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx{
    X509_STORE_CTX_new(), X509_STORE_CTX_free};
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr)
                != 1)
    return invalid(with_reason("cannot check the certificate"));
  if (X509_verify_cert(ctx.get()) != 1) {
    std::string msg = "certificate ";
    msg.append(opts.certificate);
    msg.append(" is not valid for CA file ");
    msg.append(opts.cafile);
    msg.append(": ");
    msg.append(X509_verify_cert_error_string(
      X509_STORE_CTX_get_error(ctx.get())));
    ssl_error();
    return invalid(std::move(msg));
  }
  return caf::none;
}

node_config::node_config() {
  register_proto_types(*this);
  opt_group{custom_options_, "actio.node"}
    .add(node.host, "host", "address a published actor binds to "
                            "(default 127.0.0.1)")
    .add(node.port, "port", "port a published actor binds to (0: any)")
    .add(node.secure, "secure",
         "TLS between nodes with mutual certificates (needs certificate, "
         "key and cafile)")
    .add(node.certificate, "certificate", "this node's certificate (PEM)")
    .add(node.key, "key", "this node's private key (PEM)")
    .add(node.passphrase, "passphrase", "passphrase of an encrypted key")
    .add(node.cafile, "cafile", "CA certificate(s) trusted for peers (PEM)")
    .add(node.heartbeat_interval, "heartbeat-interval",
         "heartbeats between nodes, 0 = off (default 1s)")
    .add(node.connection_timeout, "connection-timeout",
         "a peer silent this long is down, 0 = never (default 5s)")
    .add(node.connect_attempts, "connect-attempts",
         "tries of a connect before giving up (default 10)")
    .add(node.retry_delay, "retry-delay",
         "pause between connect tries and reconnects (default 200ms)")
    .add(node.insecure, "insecure",
         "allow a plain (unauthenticated) node port on an address other "
         "than loopback")
    .add(node.peer_names, "peer-names",
         "with secure: names (comma-separated) a peer's certificate must "
         "carry, in both directions; default: a node connected to must "
         "carry the host it is reached by")
    .add(node.max_message_size, "max-message-size",
         "largest message from another node in bytes; a larger one closes "
         "its connection (default 33554432)");
}

caf::error node_config::prepare() {
  if (auto err = validate_node_options(node))
    return err;
  if (!basp_guard_active())
    return invalid("cannot guard BASP message sizes (caf::io::basp::valid "
                   "is not interposed)");
  set_basp_max_payload(node.max_message_size);
  load<caf::io::middleman>();
  if (node.secure) {
    // Links the fix in; without it a refused peer could close good links.
    (void) tls_error_queue_fix_active();
    if (!tls_peer_identity_active())
      return invalid("cannot check peer names (SSL_CTX_set_verify is not "
                     "interposed)");
    std::vector<std::string> names;
    size_t start = 0;
    while (start <= node.peer_names.size()) {
      auto comma = node.peer_names.find(',', start);
      auto item = node.peer_names.substr(
        start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty())
        names.push_back(std::move(item));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    set_tls_peer_names(std::move(names));
    load<caf::openssl::manager>();
    openssl_certificate = node.certificate;
    openssl_key = node.key;
    openssl_passphrase = node.passphrase;
    openssl_cafile = node.cafile;
    openssl_capath.clear();
  } else {
    // Not loaded, so never used: CAF's anonymous TLS is out of reach.
    openssl_certificate.clear();
    openssl_key.clear();
    openssl_passphrase.clear();
    openssl_cafile.clear();
    openssl_capath.clear();
  }
  caf::put(content, "middleman.heartbeat-interval", node.heartbeat_interval);
  caf::put(content, "middleman.connection-timeout", node.connection_timeout);
  return caf::none;
}

namespace node {

caf::expected<uint16_t> publish(caf::actor_system& sys, const caf::actor& whom,
                                const node_options& opts) {
  if (!is_node_guarded(whom))
    return invalid("publish: the actor does not drop exit messages from "
                   "other nodes (derive it from actio::node_guarded)");
  const char* host = opts.host.empty() ? nullptr : opts.host.c_str();
  if (opts.secure)
    return caf::openssl::publish(whom, opts.port, host, true);
  return sys.middleman().publish(whom, opts.port, host, true);
}

caf::io::middleman_actor middleman(caf::actor_system& sys,
                                   const node_options& opts) {
  if (opts.secure)
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

caf::expected<caf::actor> connect(caf::actor_system& sys,
                                  const std::string& host, uint16_t port,
                                  const node_options& opts) {
  auto mm = middleman(sys, opts);
  auto timeout = opts.connection_timeout.count() > 0
                   ? opts.connection_timeout
                   : caf::timespan{std::chrono::seconds{5}};
  caf::error last = make_actio_error(errc::invalid_argument,
                                     "actio.node.connect-attempts is 0");
  if (opts.secure)
    expect_tls_peer(host, port);
  caf::scoped_actor self{sys};
  for (size_t attempt = 0; attempt < opts.connect_attempts; ++attempt) {
    if (attempt > 0)
      std::this_thread::sleep_for(opts.retry_delay);
    caf::actor result;
    self->request(mm, timeout, caf::connect_atom::value, host, port)
      .receive(
        [&](const caf::node_id&, const caf::strong_actor_ptr& ptr,
            const std::set<std::string>&) {
          if (ptr)
            result = caf::actor_cast<caf::actor>(ptr);
          else
            last = make_actio_error(errc::invalid_argument,
                                    "no actor published at " + host + ":"
                                      + std::to_string(port));
        },
        [&](caf::error& err) { last = std::move(err); });
    if (result)
      return result;
  }
  if (opts.secure) {
    auto why = tls_peer_refusal(host, port);
    if (!why.empty())
      return make_actio_error(errc::permission_denied,
                              "refused " + why + " (" + describe(last) + ")");
  }
  return last;
}

caf::expected<std::pair<std::string, uint16_t>>
parse_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return invalid("expected HOST:PORT, got '" + text + "'");
  auto host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535)
      return invalid("bad port in '" + text + "'");
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port == 0 || port > 65535)
    return invalid("bad port in '" + text + "'");
  return std::make_pair(std::move(host), static_cast<uint16_t>(port));
}

} // namespace node

} // namespace actio
