#include "actio/net/tcp_listener.hpp"

#include <string>

#include "actio/drivers/errc.hpp"
#include "actio/net/detail/listener_actor.hpp"

namespace actio::net {

caf::expected<listener> tcp_listen(runtime& rt, const listen_options& opts,
                                   connection_factory factory,
                                   connection_options conn_opts) {
  if (auto err = validate(conn_opts.socket))
    return err;
  if (conn_opts.tls && !conn_opts.tls->is_server())
    return make_actio_error(errc::invalid_argument,
                            "a listener needs a server TLS context "
                            "(tls_context::make_server)");
  auto fd = make_tcp_listen_socket(opts);
  if (!fd)
    return std::move(fd.error());
  owned_fd owned{*fd};
  auto port = local_port(*fd);
  if (!port)
    return std::move(port.error());
  auto actor = detail::spawn_listener(rt, std::move(owned), *port,
                                      "port " + std::to_string(*port), nullptr,
                                      opts.max_connections, std::move(factory),
                                      conn_opts);
  return listener{std::move(actor), *port};
}

} // namespace actio::net
