#include "actio/net/tcp_listener.hpp"

#include <iostream>

#include "actio/actors/errc.hpp"
#include "actio/net/atoms.hpp"

namespace actio::net {

namespace {

class listener_actor : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  listener_actor(caf::actor_config& cfg, runtime* rt, owned_fd fd,
                 uint16_t port, std::string label, std::shared_ptr<void> keep,
                 connection_factory factory, connection_options opts)
    : super(cfg), rt_(rt), fd_(std::move(fd)), port_(port),
      label_(std::move(label)), keep_(std::move(keep)),
      factory_(std::move(factory)), opts_(opts) {
  }

  const char* name() const override {
    return "actio.tcp_listener";
  }

protected:
  caf::behavior make_behavior() override {
    auto sock = io().adopt(fd_.release(), ctrl(), write_limits{});
    if (!sock) {
      quit(sock.error());
      return {};
    }
    sock_ = *sock;
    io().start_accept(sock_);
    return {
      [this](accepted& acc) {
        spawn_pinned<connection>(rt_->next_unit(), std::move(acc.fd),
                                 factory_, opts_);
      },
      [this](const accept_paused& ev) {
        std::cerr << "actio: listener on " << label_
                  << " pauses accepting: " << system().render(ev.reason)
                  << '\n';
      },
      [this](const accept_resumed&) {
        std::cerr << "actio: listener on " << label_ << " accepts again\n";
      },
      [this](const connection_closed&) {
        sock_ = 0;
        quit();
      },
      [this](close_atom) {
        if (sock_ != 0)
          io().close(sock_, caf::error{});
      },
      [this](port_atom) {
        return port_;
      },
    };
  }

  void on_exit() override {
    if (sock_ != 0 && unit().on_thread()) {
      io().close(sock_, caf::error{});
      sock_ = 0;
    }
    factory_ = nullptr;
    keep_.reset(); // a Unix listener's path goes now
    super::on_exit();
  }

private:
  runtime* rt_;
  owned_fd fd_;
  uint16_t port_;
  std::string label_;         ///< "port N" or "unix:PATH", for logs
  std::shared_ptr<void> keep_; ///< released when the listener ends
  connection_factory factory_;
  connection_options opts_;
  socket_id sock_ = 0;
};

} // namespace

namespace detail {

caf::actor spawn_listener(runtime& rt, owned_fd fd, uint16_t port,
                          std::string label, std::shared_ptr<void> keep,
                          connection_factory factory,
                          connection_options conn_opts) {
  auto actor = spawn_pinned<listener_actor>(
    rt.next_unit(), &rt, std::move(fd), port, std::move(label),
    std::move(keep), std::move(factory), conn_opts);
  return caf::actor_cast<caf::actor>(actor);
}

} // namespace detail

caf::expected<listener> tcp_listen(runtime& rt, const listen_options& opts,
                                   connection_factory factory,
                                   connection_options conn_opts) {
  if (auto err = validate(conn_opts.socket))
    return err;
  auto fd = make_tcp_listen_socket(opts);
  if (!fd)
    return std::move(fd.error());
  owned_fd owned{*fd};
  auto port = local_port(*fd);
  if (!port)
    return std::move(port.error());
  auto actor = detail::spawn_listener(rt, std::move(owned), *port,
                                      "port " + std::to_string(*port), nullptr,
                                      std::move(factory), conn_opts);
  return listener{std::move(actor), *port};
}

} // namespace actio::net
