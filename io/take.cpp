#include "actio/io/take.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stream.hpp>

#include "actio/io/bounded_stage.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

caf::actor spawn_take(caf::actor_system& sys, uint64_t n) {
  return sys.spawn([](caf::event_based_actor* self, uint64_t limit) -> caf::behavior {
    auto left = std::make_shared<uint64_t>(limit);
    return {
      [=](caf::stream<byte_chunk> in) {
        return detail::attach_bounded_stage<byte_chunk>(
          self, in,
          [=](caf::downstream<byte_chunk>& out, byte_chunk& chunk,
              detail::stage_end& end) {
            if (chunk.bytes.size() >= *left) {
              chunk.bytes.resize(*left);
              *left = 0;
              chunk.last = true;
              out.push(std::move(chunk));
              // Done: the receiver gets the rest then a regular close; the
              // source is stopped.
              end.finish();
              return;
            }
            *left -= chunk.bytes.size();
            out.push(std::move(chunk));
          });
      },
    };
  }, n);
}

} // namespace actio::io
