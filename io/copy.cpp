#include "actio/io/copy.hpp"

#include <map>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/delegated.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

namespace actio::io {

caf::actor copy(source src, sink dst, done_fn done) {
  auto snk = dst(std::move(done));
  src(snk);
  return snk;
}

namespace {

using copied_atom = caf::atom_constant<caf::atom("copied")>;

caf::behavior copier(caf::event_based_actor* self, source src, sink dst) {
  // A copy's `done` runs on the sink's thread: it reports back by message,
  // and the promise is kept here.
  auto pending = std::make_shared<std::map<uint64_t, caf::response_promise>>();
  auto next = std::make_shared<uint64_t>(0);
  return {
    [=](copy_atom) -> caf::result<uint64_t> {
      auto id = (*next)++;
      auto rp = self->make_response_promise();
      pending->emplace(id, rp);
      auto me = caf::actor_cast<caf::actor>(self);
      copy(src, dst, [me, id](uint64_t n, const caf::error& err) {
        caf::anon_send(me, copied_atom::value, id, n, err);
      });
      // (Not `return rp`: result's value constructor would take it.)
      return caf::delegated<uint64_t>{};
    },
    [=](copied_atom, uint64_t id, uint64_t n, caf::error& err) {
      auto i = pending->find(id);
      if (i == pending->end())
        return;
      auto rp = std::move(i->second);
      pending->erase(i);
      if (err)
        rp.deliver(std::move(err));
      else
        rp.deliver(n);
    },
  };
}

} // namespace

caf::actor spawn_copier(caf::actor_system& sys, source src, sink dst) {
  return sys.spawn(copier, std::move(src), std::move(dst));
}

} // namespace actio::io
