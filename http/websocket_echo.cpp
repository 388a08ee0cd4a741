#include "actio/http/websocket_echo.hpp"

#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "actio/http/websocket.hpp"

namespace actio::http {

namespace {

// (`unused`: CAF 0.17 under UBSan binds a null shared_ptr for a function
// actor without arguments; see tests/io/framed_test.cpp.)
caf::behavior echo(caf::event_based_actor* self, int /*unused*/) {
  return {
    [self](ws_message& m) -> caf::result<void> {
      auto conn = caf::actor_cast<caf::actor>(self->current_sender());
      if (!conn)
        return caf::unit;
      auto rp = self->make_response_promise();
      self->request(conn, caf::infinite, std::move(m))
        .then([rp]() mutable { rp.deliver(caf::unit); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [](const ws_opened&) {},
    [](const ws_closed&) {},
  };
}

} // namespace

caf::actor spawn_websocket_echo(caf::actor_system& sys) {
  return sys.spawn(echo, 0);
}

} // namespace actio::http
