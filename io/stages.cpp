#include "actio/io/stages.hpp"

#include <algorithm>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stream.hpp>

#include "actio/io/bounded_stage.hpp"
#include "actio/io/length_delimited.hpp"
#include "actio/io/lines.hpp"
#include "actio/io/split.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

namespace {

/// Runs a codec (push/finish into a batch) as a stage byte_chunk -> Batch.
/// On a codec error the items decoded before it are delivered, then the
/// receiver sees the error in its finaliser; the source is stopped at once
/// (bounded_stage.hpp).
template <class Batch, class Codec>
caf::behavior codec_stage(caf::event_based_actor* self,
                          std::shared_ptr<Codec> codec) {
  // The last batch's item count (+1/8): the next batch reserves that much,
  // so it does not grow (and move its items) a dozen times per chunk.
  auto expected = std::make_shared<size_t>(0);
  return {
    [=](caf::stream<byte_chunk> in) {
      return detail::attach_bounded_stage<Batch>(
        self, in,
        [=](caf::downstream<Batch>& out, byte_chunk& chunk,
            detail::stage_end& end) {
          Batch batch;
          auto& items = [&]() -> auto& {
            if constexpr (std::is_same_v<Batch, line_batch>)
              return batch; // the batch is its own line container
            else
              return batch.items;
          }();
          if constexpr (std::is_same_v<Batch, line_batch>) {
            batch.ends.reserve(*expected);
            batch.text = text_pool::take(chunk.bytes.size());
          } else {
            items.reserve(*expected);
          }
          auto err = codec->push(chunk.bytes.data(), chunk.bytes.size(), items);
          *expected = items.size() + items.size() / 8;
          if (!err && chunk.last) {
            err = codec->finish(items);
            batch.last = !err;
          }
          if (!items.empty() || batch.last)
            out.push(std::move(batch));
          if (err)
            end.fail(std::move(err));
        });
    },
  };
}

} // namespace

caf::actor spawn_lines(caf::actor_system& sys, size_t max_length) {
  return sys.spawn(codec_stage<line_batch, lines_codec>,
                   std::make_shared<lines_codec>(max_length));
}

caf::actor spawn_split(caf::actor_system& sys, uint8_t delimiter,
                       size_t max_length) {
  return sys.spawn(codec_stage<buffer_batch, split_codec>,
                   std::make_shared<split_codec>(delimiter, max_length));
}

caf::actor spawn_frames(caf::actor_system& sys, size_t max_frame) {
  return sys.spawn(codec_stage<buffer_batch, length_delimited_codec>,
                   std::make_shared<length_delimited_codec>(max_frame));
}

} // namespace actio::io
