#include "actio/net/tls_options.hpp"

#include <caf/config_option_adder.hpp>

#include "actio/drivers/errc.hpp"

namespace actio::net {

void tls_options::add_server_options(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "global"}
    .add(cert, "tls-cert",
         "serve TLS with this certificate chain (PEM file; needs --tls-key)")
    .add(key, "tls-key", "private key of --tls-cert (PEM file)")
    .add(client_ca, "tls-client-ca",
         "require client certificates signed by this CA (PEM file)");
}

void tls_options::add_client_options(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "global"}
    .add(enable, "tls", "connect with TLS (verifying the server)")
    .add(ca, "tls-ca",
         "CA file that verifies the server (default: the system's CAs)")
    .add(server_name, "tls-server-name",
         "name the server's certificate must carry (default: --host)")
    .add(cert, "tls-cert", "client certificate (PEM file; needs --tls-key)")
    .add(key, "tls-key", "private key of --tls-cert (PEM file)");
}

caf::expected<std::optional<tls_context>> tls_options::server_context() const {
  if (cert.empty() && key.empty() && client_ca.empty())
    return std::optional<tls_context>{};
  if (cert.empty() || key.empty())
    return make_actio_error(errc::invalid_argument,
                            cert.empty() ? "--tls-key and --tls-client-ca need "
                                           "--tls-cert"
                                         : "--tls-cert needs --tls-key");
  tls_config cfg;
  cfg.cert_file = cert;
  cfg.key_file = key;
  if (!client_ca.empty()) {
    cfg.ca_file = client_ca;
    cfg.client_auth = tls_client_auth::require;
  }
  auto ctx = tls_context::make_server(cfg);
  if (!ctx)
    return std::move(ctx.error());
  return std::optional<tls_context>{std::move(*ctx)};
}

caf::expected<std::optional<tls_context>> tls_options::client_context() const {
  if (!enable && ca.empty() && server_name.empty() && cert.empty()
      && key.empty())
    return std::optional<tls_context>{};
  if (cert.empty() != key.empty())
    return make_actio_error(errc::invalid_argument,
                            "--tls-cert and --tls-key go together");
  tls_config cfg;
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.ca_file = ca;
  cfg.server_name = server_name;
  auto ctx = tls_context::make_client(cfg);
  if (!ctx)
    return std::move(ctx.error());
  return std::optional<tls_context>{std::move(*ctx)};
}

namespace {

std::optional<int>
apply(const cli::tool& tool, connection_options& opts,
      const caf::expected<std::optional<tls_context>>& ctx) {
  if (!ctx) {
    auto text = describe(ctx.error());
    if (ctx.error().code() == static_cast<uint8_t>(errc::invalid_argument))
      return tool.usage_error(text);
    return tool.fail(text);
  }
  opts.tls = *ctx;
  return std::nullopt;
}

} // namespace

std::optional<int> tls_options::apply_server(const cli::tool& tool,
                                             connection_options& opts) const {
  return apply(tool, opts, server_context());
}

std::optional<int> tls_options::apply_client(const cli::tool& tool,
                                             connection_options& opts) const {
  return apply(tool, opts, client_context());
}

} // namespace actio::net
