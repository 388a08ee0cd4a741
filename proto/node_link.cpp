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
  bool was_up = false;        // a later up is a reconnect
  // The link's series (null: not counted), looked up once at spawn.
  metrics::gauge* up = nullptr;
  metrics::counter* downs = nullptr;
  metrics::counter* reconnects = nullptr;
  metrics::counter* failures = nullptr;
};

/// Finds the series of `st`'s peer in `reg`.
void add_series(link_state& st, metrics::registry& reg) {
  metrics::labels l{{"peer", st.address}};
  st.up = &reg.gauge("actio_node_links_up", "1 while the node link to the peer is up",
                     l);
  st.downs = &reg.counter("actio_node_link_downs_total",
                          "Times the node link to the peer went down", l);
  st.reconnects = &reg.counter("actio_node_link_reconnects_total",
                               "Times the node link came up again after a down",
                               l);
  st.failures = &reg.counter("actio_node_link_connect_failures_total",
                             "Connect attempts of the node link that failed", l);
}

void retry(caf::event_based_actor* self, const std::shared_ptr<link_state>& st,
           caf::error reason) {
  if (st->failures != nullptr)
    st->failures->add();
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
        if (st->up != nullptr) {
          st->up->add(1);
          if (st->was_up)
            st->reconnects->add();
        }
        st->was_up = true;
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
  // Ending while up: the gauge forgets the link (no down is counted).
  self->attach_functor([st] {
    if (st->remote && st->up != nullptr)
      st->up->add(-1);
  });
  self->set_down_handler([=](const caf::down_msg& msg) {
    if (msg.source == st->listener) {
      self->quit();
      return;
    }
    if (st->remote && msg.source == st->remote) {
      self->demonitor(st->remote);
      st->remote = nullptr;
      st->reported = false;
      if (st->up != nullptr) {
        st->up->add(-1);
        st->downs->add();
      }
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
                           node_options opts, bool report_unreachable,
                           metrics::registry* metrics) {
  auto st = std::make_shared<link_state>();
  st->report_unreachable = report_unreachable;
  st->listener = std::move(listener);
  st->address = host;
  st->address.append(":");
  st->address.append(std::to_string(port));
  st->host = std::move(host);
  st->port = port;
  if (metrics != nullptr)
    add_series(*st, *metrics);
  st->mm = node::middleman(sys, opts);
  if (opts.secure)
    expect_tls_peer(st->host, st->port);
  st->opts = std::move(opts);
  return sys.spawn(node_link, std::move(st));
}

} // namespace actio
