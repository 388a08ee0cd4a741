#pragma once

// The codec of a chat client's framed connection (actio/io/framed.hpp): the
// first byte the client sends picks the mode, then io::line_frames (text
// clients) or io::protobuf_frames<Request> (protobuf clients) decode.
//
// 0x00 first is a protobuf client (every frame starts with its 4-byte
// big-endian length, and frames are < 16 MiB, so the first byte of a frame
// is always 0x00); anything else a text client. The session learns the
// mode from a `mode_known` input ahead of the first line or request, or
// decides it (`set_mode`) when the client stays silent. Events are encoded
// in the client's mode: a line (text_protocol.hpp's `render`) or a frame;
// `notice` lines (the welcome, /help) go to text clients only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/io/codec.hpp"
#include "actio/io/line_frames.hpp"
#include "actio/proto/protobuf_frames.hpp"
#include "atoms.hpp"

namespace chat {

enum class mode : uint8_t { unknown, text, proto };

/// What a client sent, in order: its mode once known, then its lines (text
/// clients) or requests (protobuf clients).
struct client_input {
  enum kind_t : uint8_t { mode_known, line, request };
  uint8_t kind = mode_known;
  std::string text; ///< with `line`: as received (not cleaned yet)
  actio::proto::message<pb::Request> req; ///< with `request`
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_input& x) {
  return f(caf::meta::type_name("chat.client_input"), x.kind, x.text, x.req);
}

/// A line for text clients only; protobuf clients get nothing.
struct notice {
  std::string_view line;
};

class client_codec {
public:
  using in_frame = client_input;
  using out_frame = event_msg;

  client_codec(size_t max_line, size_t max_frame);

  actio::io::decoded<client_input> decode(const uint8_t* data, size_t size);

  /// At EOF: a last line without newline; EOF inside a frame is
  /// `errc::truncated` (the client hung up mid-frame, nothing malformed).
  actio::io::decoded<client_input> finish(const uint8_t* data, size_t size);

  caf::error encode(const event_msg& ev, actio::byte_buffer& out) {
    return encode(*ev, out);
  }
  caf::error encode(const pb::Event& ev, actio::byte_buffer& out);
  caf::error encode(const notice& n, actio::byte_buffer& out);

  mode current() const noexcept {
    return mode_;
  }

  /// Decides the mode of a client that has sent nothing yet (no
  /// `mode_known` input follows); false if the mode was known.
  bool set_mode(mode m) noexcept;

private:
  actio::io::decoded<client_input> convert(actio::io::decoded<std::string> d);
  actio::io::decoded<client_input>
  convert(actio::io::decoded<actio::proto::message<pb::Request>> d);

  mode mode_ = mode::unknown;
  bool told_ = false; // the session knows the mode
  actio::io::line_frames lines_;
  actio::io::line_frames out_lines_; // events may be longer than max_line
  actio::io::protobuf_frames<pb::Request> frames_;
};

static_assert(actio::io::codec_with_finish<client_codec>);

} // namespace chat
