#include "actio/proto/node_link.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/proto/detail/tls_peer_identity.hpp"

namespace actio {

namespace {

using retry_atom = caf::atom_constant<caf::atom("nlRetry")>;

struct link_state {
  caf::actor listener;
  std::string host;
  uint16_t port = 0;
  std::string address;
  node_options opts;
  caf::io::middleman_actor mm;
  caf::actor remote;          // valid while up
  bool connecting = false;
  bool report_unreachable = false;
  bool reported = false;      // a failure since the start or the last down
};

void retry(caf::event_based_actor* self, const std::shared_ptr<link_state>& st,
           caf::error reason) {
  if (st->report_unreachable && !st->reported) {
    st->reported = true;
    if (st->opts.secure) {
      auto why = tls_peer_refusal(st->host, st->port);
      if (!why.empty())
        reason = make_actio_error(errc::permission_denied, "refused " + why);
    }
    self->send(st->listener, node_unreachable_atom::value, st->address,
               std::move(reason));
  }
  self->delayed_send(self, st->opts.retry_delay, retry_atom::value);
}

void try_connect(caf::event_based_actor* self,
                 std::shared_ptr<link_state> st) {
  if (st->connecting || st->remote)
    return;
  st->connecting = true;
  auto timeout = st->opts.connection_timeout.count() > 0
                   ? st->opts.connection_timeout
                   : caf::timespan{std::chrono::seconds{5}};
  self->request(st->mm, timeout, caf::connect_atom::value, st->host, st->port)
    .then(
      [=](const caf::node_id&, const caf::strong_actor_ptr& ptr,
          const std::set<std::string>&) {
        st->connecting = false;
        if (!ptr) {
          retry(self, st,
                make_actio_error(errc::invalid_argument,
                                 "no actor published at " + st->address));
          return;
        }
        st->remote = caf::actor_cast<caf::actor>(ptr);
        self->monitor(st->remote);
        self->send(st->listener, node_up_atom::value, st->address,
                   st->remote);
      },
      [=](caf::error& err) {
        st->connecting = false;
        retry(self, st, std::move(err));
      });
}

caf::behavior node_link(caf::event_based_actor* self,
                        std::shared_ptr<link_state> st) {
  self->monitor(st->listener);
  self->set_down_handler([=](const caf::down_msg& msg) {
    if (msg.source == st->listener) {
      self->quit();
      return;
    }
    if (st->remote && msg.source == st->remote) {
      self->demonitor(st->remote);
      st->remote = nullptr;
      st->reported = false;
      self->send(st->listener, node_down_atom::value, st->address,
                 msg.reason);
      self->delayed_send(self, st->opts.retry_delay, retry_atom::value);
    }
  });
  try_connect(self, st);
  return {
    [=](retry_atom) { try_connect(self, st); },
  };
}

} // namespace

caf::actor spawn_node_link(caf::actor_system& sys, caf::actor listener,
                           std::string host, uint16_t port,
                           node_options opts, bool report_unreachable) {
  auto st = std::make_shared<link_state>();
  st->report_unreachable = report_unreachable;
  st->listener = std::move(listener);
  st->address = host;
  st->address.append(":");
  st->address.append(std::to_string(port));
  st->host = std::move(host);
  st->port = port;
  st->mm = node::middleman(sys, opts);
  if (opts.secure)
    expect_tls_peer(st->host, st->port);
  st->opts = std::move(opts);
  return sys.spawn(node_link, std::move(st));
}

} // namespace actio
