#pragma once

// Test certificates, made at test time with the `openssl` command into a
// temporary directory (no private key is ever committed):
//   ca.pem            the CA every good certificate chains to
//   server.pem/.key   CN=localhost, SAN DNS:localhost, IP:127.0.0.1
//   client.pem/.key   a client certificate from the same CA
//   expired.pem/.key  like server.pem, but its validity ended yesterday
//   wrong.pem/.key    from the CA, but for DNS:wrong.example only
//   other-ca.pem      a second CA; other.pem/.key: a "localhost" server
//                     certificate from it (unknown to clients of ca.pem)

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "actio/net/tls_context.hpp"

namespace actio::test {

class tls_certs {
public:
  tls_certs() {
    auto base = std::filesystem::temp_directory_path() / "actio-tls-XXXXXX";
    std::string tmpl = base.string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      return;
    dir_ = tmpl;
    ok_ = make_ca("ca") && make_ca("other-ca")
          && make_leaf("server", "ca", "DNS:localhost,IP:127.0.0.1", 30)
          && make_leaf("client", "ca", "DNS:client", 30)
          && make_leaf("expired", "ca", "DNS:localhost,IP:127.0.0.1", -1)
          && make_leaf("wrong", "ca", "DNS:wrong.example", 30)
          && make_leaf("other", "other-ca", "DNS:localhost,IP:127.0.0.1", 30);
  }

  ~tls_certs() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool ok() const {
    return ok_;
  }

  std::string path(const std::string& file) const {
    return dir_ + "/" + file;
  }

  /// A server context with NAME.pem / NAME.key.
  caf::expected<net::tls_context> server(const std::string& name = "server",
                                         net::tls_config cfg = {}) const {
    cfg.cert_file = path(name + ".pem");
    cfg.key_file = path(name + ".key");
    return net::tls_context::make_server(cfg);
  }

  /// A client context trusting ca.pem, checking "localhost".
  caf::expected<net::tls_context> client(net::tls_config cfg = {}) const {
    if (cfg.ca_file.empty())
      cfg.ca_file = path("ca.pem");
    if (cfg.server_name.empty())
      cfg.server_name = "localhost";
    return net::tls_context::make_client(cfg);
  }

private:
  bool run(const std::string& cmd) const {
    return std::system(("cd '" + dir_ + "' && " + cmd + " >/dev/null 2>&1").c_str())
           == 0;
  }

  bool write_file(const std::string& name, const std::string& text) const {
    std::ofstream out{path(name)};
    out << text;
    return static_cast<bool>(out);
  }

  bool make_ca(const std::string& name) const {
    return run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
               " -nodes -keyout " + name + ".key -out " + name + ".pem -days 30"
               " -subj /CN=" + name);
  }

  bool make_leaf(const std::string& name, const std::string& ca,
                 const std::string& san, int days) const {
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
               " -keyout " + name + ".key -out " + name + ".csr -subj /CN="
               + name)
           && write_file(name + ".ext", "subjectAltName=" + san + "\n")
           && run("openssl x509 -req -in " + name + ".csr -CA " + ca
                  + ".pem -CAkey " + ca + ".key -CAcreateserial -days "
                  + std::to_string(days) + " -extfile " + name + ".ext -out "
                  + name + ".pem");
  }

  std::string dir_;
  bool ok_ = false;
};

} // namespace actio::test
