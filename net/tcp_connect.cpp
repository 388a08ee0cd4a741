#include "actio/net/tcp_connect.hpp"

#include "actio/drivers/errc.hpp"

namespace actio::net {

caf::error validate(const connection_options& opts) {
  if (opts.connect_timeout.count() <= 0)
    return make_actio_error(errc::invalid_argument,
                            "connect_timeout must be positive");
  if (opts.tls && opts.tls->is_server())
    return make_actio_error(errc::invalid_argument,
                            "a client connection needs a client TLS context "
                            "(tls_context::make_client)");
  return validate(opts.socket);
}

caf::expected<caf::actor> tcp_connect(runtime& rt, const std::string& host,
                                      uint16_t port, connection_factory factory,
                                      connection_options opts) {
  if (host.empty())
    return make_actio_error(errc::invalid_argument, "tcp_connect: empty host");
  if (auto err = validate(opts))
    return err;
  connect_request req;
  req.name = host_port(host, port);
  if (auto t = numeric_target(host, port))
    req.targets.push_back(*t); // a literal: no resolver needed
  else
    req.host = host, req.port = port;
  return spawn_pinned<connection>(rt.next_unit(), std::move(req),
                                  std::move(factory), opts);
}

} // namespace actio::net
