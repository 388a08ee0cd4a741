#pragma once

/// The codec interface of framed connections (io/framed.hpp): a codec turns
/// received bytes into frames and frames into bytes to write. One codec
/// object per connection; it may keep state between calls.
///
/// A codec `C` has
/// - `using in_frame = ...;` what `decode` yields from received bytes;
/// - `using out_frame = ...;` what `encode` writes (may be the same type);
/// - `decoded<in_frame> decode(const uint8_t* data, size_t size);` called
///   repeatedly on the bytes not consumed yet; it must report input longer
///   than its maximum frame as an error (`errc::too_long`) instead of asking
///   for more without bound;
/// - `void encode(const out_frame& f, byte_buffer& out);` appends `f`'s
///   bytes to `out` (it may return a `caf::error` instead of `void`: a
///   frame it cannot encode closes the connection with it); more `encode`
///   overloads let `framed_self::send` take other types too;
/// - optionally `decoded<in_frame> finish(const uint8_t* data, size_t size);`
///   called once at the peer's EOF with the bytes still unconsumed (lines:
///   a last line without newline). Without it, bytes left at EOF are an
///   `errc::truncated` error.
///
/// Frames travel as CAF messages, so both frame types need an `inspect`
/// overload (std::string, byte_buffer and proto::message<Msg> have one).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <caf/error.hpp>

#include "actio/drivers/types.hpp"

namespace actio::io {

/// What `decode` found at the front of its input.
template <class Frame>
struct decoded {
  std::optional<Frame> frame; ///< a whole frame, if one was complete
  size_t consumed = 0;        ///< bytes of the input used (may be > 0 without a frame)
  caf::error error;           ///< malformed / too long: the connection closes with it
};

/// See the top of this file.
template <class C>
concept codec = requires(C& c, const typename C::out_frame& f, byte_buffer& out,
                         const uint8_t* data, size_t size) {
  typename C::in_frame;
  typename C::out_frame;
  { c.decode(data, size) } -> std::same_as<decoded<typename C::in_frame>>;
  c.encode(f, out);
};

/// `C` can encode `F` (its `out_frame`, or another type it has an `encode`
/// overload for: `framed_self::send` takes either).
template <class C, class F>
concept encodes = requires(C& c, const F& f, byte_buffer& out) {
  c.encode(f, out);
};

/// A codec with `finish` (a last frame at EOF).
template <class C>
concept codec_with_finish = codec<C> && requires(C& c, const uint8_t* data,
                                                 size_t size) {
  { c.finish(data, size) } -> std::same_as<decoded<typename C::in_frame>>;
};

} // namespace actio::io
