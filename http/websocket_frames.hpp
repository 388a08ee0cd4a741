#pragma once

/// The WebSocket frame layer (RFC 6455 §5), server side: `ws_decoder` turns
/// a client's frames into whole messages and control frames, enforcing the
/// RFC; `encode_ws_frame` writes one frame (unmasked from a server, masked
/// from a client: the tests' raw client uses the mask).
///
/// The decoder yields a `ws_frame` per text or binary message (fragments
/// joined; control frames between fragments come out on their own, at
/// once), per ping, pong and close. A protocol violation yields a frame of
/// kind `ws_frame::error` carrying the close code to send — 1002 for an
/// unmasked frame, reserved bits, an unknown opcode, a fragmented or
/// oversized (> 125 bytes) control frame, a continuation without a
/// message or a new message inside one, a 1-byte or invalid close code;
/// 1007 for a text message or close reason that is not UTF-8; 1009 for a
/// message over `max_message` (detected at the frame header, before its
/// payload is read) — and everything after it is dropped.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

#include "actio/drivers/types.hpp"
#include "actio/io/codec.hpp"

namespace actio::http {

/// Opcodes (RFC 6455 §5.2).
enum class ws_opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Close status codes used here (RFC 6455 §7.4.1).
namespace ws_status {
constexpr uint16_t normal = 1000;
constexpr uint16_t going_away = 1001;
constexpr uint16_t protocol_error = 1002;
constexpr uint16_t no_status = 1005; ///< a close frame without a code (never sent)
constexpr uint16_t abnormal = 1006;  ///< no close frame at all (never sent)
constexpr uint16_t invalid_data = 1007;
constexpr uint16_t too_big = 1009;
constexpr uint16_t internal_error = 1011;
} // namespace ws_status

/// True for a code a close frame may carry: 1000-1003, 1007-1014, 3000-4999.
bool valid_close_code(uint16_t code) noexcept;

/// A decoded message or control frame.
struct ws_frame {
  enum kind_t : uint8_t { text = 1, binary = 2, close = 8, ping = 9, pong = 10, error = 0xFF };
  kind_t kind = text;
  /// The message, the ping/pong payload, the close reason, or why an error.
  std::string data;
  /// close: the peer's code (1005 if it sent none); error: the code to send.
  uint16_t code = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_frame& x) {
  return f(caf::meta::type_name("actio.http.ws_frame"), x.kind, x.data, x.code);
}

/// Appends one frame with FIN set. `mask`: a client's masking key (4
/// bytes), nullptr for a server frame. `fin` false writes a fragment.
void encode_ws_frame(byte_buffer& out, ws_opcode op, std::string_view payload,
                     const uint8_t* mask = nullptr, bool fin = true);

/// The payload of a close frame: the code (none for 1005) and the reason.
std::string ws_close_payload(uint16_t code, std::string_view reason);

/// Decodes a client's frames (see the top of this file).
class ws_decoder {
public:
  explicit ws_decoder(size_t max_message) : max_message_(max_message) {
  }

  io::decoded<ws_frame> decode(const uint8_t* data, size_t size);

  /// A protocol error was found: everything after it is dropped.
  bool failed() const noexcept {
    return failed_;
  }

private:
  io::decoded<ws_frame> fail(uint16_t code, std::string why, size_t size);

  size_t max_message_;
  std::string partial_;    // fragments of the message in progress
  uint8_t partial_op_ = 0; // its opcode; 0: none
  bool failed_ = false;
};

} // namespace actio::http
