#pragma once

/// Protobuf messages over byte streams: each message is one
/// length-delimited frame (u32 big-endian payload length, then the
/// message's wire format; see length_delimited.hpp).
///
/// - `spawn_protobuf_decoder<Msg>`: stage byte_chunk -> proto_batch<Msg>.
///   A frame that does not parse as `Msg` is `errc::malformed`, naming the
///   frame's byte offset in the stream; a frame longer than `max_frame` is
///   `errc::too_long`; input ending inside a frame is `errc::malformed`.
///   On each error the source is stopped at once; every message decoded
///   before the bad frame (also those of the same chunk) reaches the sink
///   first, then the sink's finaliser gets the error (bounded_stage.hpp).
/// - `spawn_protobuf_encoder<Msg>`: stage proto_batch<Msg> -> byte_chunk,
///   one chunk per batch. A message over `max_frame` is `errc::too_long`.
///
/// Both pass the in-band end (`last`) on, as every actio stage does.
///
/// - `protobuf_frames<Msg>`: the same format as a codec for framed
///   connections (io/framed.hpp, io/codec.hpp); frames are
///   `proto::message<Msg>` both ways.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stream.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/bounded_stage.hpp"
#include "actio/io/codec.hpp"
#include "actio/io/length_delimited.hpp"
#include "actio/io/length_frames.hpp"
#include "actio/io/stream.hpp"
#include "actio/proto/message.hpp"

namespace actio::io {

/// Decoded messages. `last`: nothing follows.
template <class Msg>
struct proto_batch {
  std::vector<proto::message<Msg>> items;
  bool last = false;
};

template <class Inspector, class Msg>
typename Inspector::result_type inspect(Inspector& f, proto_batch<Msg>& x) {
  return f(caf::meta::type_name("actio.proto_batch"), x.items, x.last);
}

namespace detail {

template <class Msg>
struct protobuf_decoder_state {
  explicit protobuf_decoder_state(size_t max_frame) : codec(max_frame) {
  }
  length_delimited_codec codec;
  uint64_t next_frame = 0; // stream offset of the next complete frame
  std::vector<byte_buffer> payloads;
};

} // namespace detail

/// byte_chunk -> proto_batch<Msg>.
template <class Msg>
caf::actor spawn_protobuf_decoder(caf::actor_system& sys,
                                  size_t max_frame = 8 * 1024 * 1024) {
  using state = detail::protobuf_decoder_state<Msg>;
  auto fn = [](caf::event_based_actor* self,
               std::shared_ptr<state> st) -> caf::behavior {
    return {
      [=](caf::stream<byte_chunk> in) {
        return detail::attach_bounded_stage<proto_batch<Msg>>(
          self, in,
          [=](caf::downstream<proto_batch<Msg>>& out, byte_chunk& chunk,
              detail::stage_end& end) {
            st->payloads.clear();
            auto err = st->codec.push(chunk.bytes.data(), chunk.bytes.size(),
                                      st->payloads);
            proto_batch<Msg> batch;
            // Frames completed before an error still go out first.
            for (auto& p : st->payloads) {
              auto offset = st->next_frame;
              st->next_frame += 4 + p.size();
              proto::message<Msg> m;
              if (!m.value.ParseFromArray(p.data(), static_cast<int>(p.size()))) {
                err = make_actio_error(errc::malformed,
                                       "frame at byte " + std::to_string(offset)
                                         + " (" + std::to_string(p.size())
                                         + " bytes) does not parse as "
                                         + m.value.GetTypeName());
                break;
              }
              batch.items.push_back(std::move(m));
            }
            if (!err && chunk.last) {
              err = st->codec.finish(st->payloads);
              batch.last = !err;
            }
            if (!batch.items.empty() || batch.last)
              out.push(std::move(batch));
            if (err)
              end.fail(std::move(err));
          });
      },
    };
  };
  return sys.spawn(fn, std::make_shared<state>(max_frame));
}

/// proto_batch<Msg> -> byte_chunk (one chunk of frames per batch).
template <class Msg>
caf::actor spawn_protobuf_encoder(caf::actor_system& sys,
                                  size_t max_frame = 8 * 1024 * 1024) {
  auto fn = [](caf::event_based_actor* self, size_t max) -> caf::behavior {
    return {
      [=](caf::stream<proto_batch<Msg>> in) {
        return detail::attach_bounded_stage<byte_chunk>(
          self, in,
          [=](caf::downstream<byte_chunk>& out, proto_batch<Msg>& batch,
              detail::stage_end& end) {
            byte_chunk chunk;
            std::string buf;
            for (auto& m : batch.items) {
              buf.clear();
              m.value.SerializeToString(&buf);
              if (buf.size() > max || buf.size() > UINT32_MAX) {
                // The messages before it go out first, then the error.
                if (!chunk.bytes.empty())
                  out.push(std::move(chunk));
                std::string what = "message of ";
                what.append(std::to_string(buf.size()))
                  .append(" bytes exceeds the maximum frame of ")
                  .append(std::to_string(max));
                end.fail(make_actio_error(errc::too_long, what));
                return;
              }
              auto n = static_cast<uint32_t>(buf.size());
              uint8_t header[4] = {static_cast<uint8_t>(n >> 24),
                                   static_cast<uint8_t>(n >> 16),
                                   static_cast<uint8_t>(n >> 8),
                                   static_cast<uint8_t>(n)};
              chunk.bytes.insert(chunk.bytes.end(), header, header + 4);
              chunk.bytes.insert(chunk.bytes.end(), buf.begin(), buf.end());
            }
            chunk.last = batch.last;
            if (!chunk.bytes.empty() || chunk.last)
              out.push(std::move(chunk));
          });
      },
    };
  };
  return sys.spawn(fn, max_frame);
}

/// Length-delimited protobuf messages as a framed-connection codec: a
/// frame that does not parse as `Msg` is `errc::malformed`, one over
/// `max_frame` `errc::too_long` (decoding and encoding), EOF inside a frame
/// `errc::malformed`.
template <class Msg>
class protobuf_frames {
public:
  using in_frame = proto::message<Msg>;
  using out_frame = proto::message<Msg>;

  explicit protobuf_frames(size_t max_frame = 8 * 1024 * 1024)
    : max_(max_frame), frames_(max_frame) {
  }

  decoded<in_frame> decode(const uint8_t* data, size_t size) {
    return parse(frames_.decode(data, size));
  }

  decoded<in_frame> finish(const uint8_t* data, size_t size) {
    return parse(frames_.finish(data, size));
  }

  caf::error encode(const out_frame& m, byte_buffer& out) const {
    std::string buf;
    if (!m.value.SerializeToString(&buf))
      return make_actio_error(errc::malformed,
                              "cannot serialise " + m.value.GetTypeName());
    return append_frame(reinterpret_cast<const uint8_t*>(buf.data()),
                        buf.size(), out, max_);
  }

private:
  decoded<in_frame> parse(decoded<byte_buffer> d) {
    decoded<in_frame> out;
    out.consumed = d.consumed;
    out.error = std::move(d.error);
    if (d.frame) {
      in_frame m;
      if (!m.value.ParseFromArray(d.frame->data(),
                                  static_cast<int>(d.frame->size()))) {
        out.error = make_actio_error(errc::malformed,
                                     "frame " + std::to_string(count_) + " ("
                                       + std::to_string(d.frame->size())
                                       + " bytes) does not parse as "
                                       + m.value.GetTypeName());
        return out;
      }
      ++count_;
      out.frame = std::move(m);
    }
    return out;
  }

  size_t max_;
  length_frames frames_;
  uint64_t count_ = 0; // frames decoded, for error texts
};

} // namespace actio::io
