#include "actio/net/tcp_proxy.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include <caf/atom.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/net/tcp_connect.hpp"

namespace actio::net {

namespace {

using peer_atom = caf::atom_constant<caf::atom("cb_peer")>;
using relay_atom = caf::atom_constant<caf::atom("cb_relay")>;
using ack_atom = caf::atom_constant<caf::atom("cb_ack")>;
using eof_atom = caf::atom_constant<caf::atom("cb_eof")>;
using abort_atom = caf::atom_constant<caf::atom("cb_abort")>;

/// Bytes of one direction in flight (read, not yet written on).
constexpr size_t window = 256 * 1024;

/// Shared by the two sides of a pair (on any threads): counts, the first
/// error, and the report once both sockets are closed.
struct pair_report {
  std::atomic<uint64_t> counts[2] = {0, 0};
  std::atomic<int> closed{0};
  std::mutex mtx;
  caf::error error;
  proxy_done done;

  void fail(const caf::error& err) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!error)
      error = err;
  }

  void side_closed() {
    if (++closed == 2 && done) {
      copy_counts c{counts[0].load(), counts[1].load()};
      std::lock_guard<std::mutex> guard{mtx};
      done(c, error);
    }
  }
};

/// One side of the pair: relays what it reads to the peer, writes what
/// the peer relays, and closes once EOF went both ways (or on an error).
caf::behavior relay_side(connection* self, std::shared_ptr<pair_report> rep,
                         int direction, caf::actor peer) {
  struct side {
    caf::actor peer;
    bool eof_sent = false; // our reader saw EOF and told the peer
    bool shut_done = false; // the peer's EOF became our shutdown
    bool closing = false;
  };
  auto me = std::make_shared<side>();
  me->peer = std::move(peer);
  auto maybe_close = [=] {
    if (me->eof_sent && me->shut_done && !me->closing) {
      me->closing = true;
      self->close();
    }
  };
  auto fail = [=](const caf::error& err) {
    rep->fail(err);
    if (me->peer)
      self->send(me->peer, abort_atom::value);
    if (!me->closing) {
      me->closing = true;
      self->close();
    }
  };
  return {
    [=](const connected& c) { // target side only
      if (c.reason) {
        rep->fail(c.reason);
        self->send(me->peer, abort_atom::value);
        return;
      }
      self->send(me->peer, peer_atom::value, caf::actor_cast<caf::actor>(self));
      self->grant(window);
    },
    [=](peer_atom, caf::actor& p) { // client side: the target is up
      me->peer = std::move(p);
      self->grant(window);
    },
    [=](received& in) {
      rep->counts[direction] += in.bytes.size();
      self->send(me->peer, relay_atom::value, std::move(in.bytes));
    },
    [=](relay_atom, byte_buffer& bytes) { self->write(std::move(bytes)); },
    [=](const write_completed& w) {
      if (w.reason)
        fail(w.reason);
      else if (me->peer)
        self->send(me->peer, ack_atom::value, uint64_t{w.bytes});
    },
    [=](ack_atom, uint64_t n) { self->grant(n); },
    [=](const read_closed& rc) {
      if (rc.reason) {
        fail(rc.reason);
        return;
      }
      me->eof_sent = true;
      self->send(me->peer, eof_atom::value);
      maybe_close();
    },
    [=](eof_atom) { self->shutdown_write(); },
    [=](const shutdown_completed& s) {
      if (s.reason) {
        fail(s.reason);
        return;
      }
      me->shut_done = true;
      maybe_close();
    },
    [=](abort_atom) {
      if (!me->closing) {
        me->closing = true;
        self->close();
      }
    },
    [=](const connection_closed& cc) {
      if (cc.reason) {
        rep->fail(cc.reason);
        if (me->peer)
          self->send(me->peer, abort_atom::value);
      }
      rep->side_closed();
    },
  };
}

} // namespace

caf::expected<listener> tcp_proxy(runtime& rt, const listen_options& listen,
                                  std::string target_host, uint16_t target_port,
                                  proxy_done done) {
  auto* rtp = &rt;
  return tcp_listen(rt, listen, [=](connection* self) -> caf::behavior {
    auto rep = std::make_shared<pair_report>();
    rep->done = done;
    auto client = caf::actor_cast<caf::actor>(self);
    auto target = tcp_connect(*rtp, target_host, target_port,
                              [rep, client](connection* t) {
                                return relay_side(t, rep, 1, client);
                              });
    if (!target) {
      rep->fail(target.error());
      rep->side_closed(); // the target side never existed
      self->close();
    }
    return relay_side(self, rep, 0, caf::actor{});
  });
}

} // namespace actio::net
