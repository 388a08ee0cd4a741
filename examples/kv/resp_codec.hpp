#pragma once
// RESP2 (the Redis protocol) as codecs for a framed connection (io/codec.hpp,
// io/framed.hpp): `resp_codec` decodes commands (multibulk
// `*N\r\n$len\r\narg\r\n...` or an inline line `SET k v\r\n`) and encodes
// replies; `resp_frames`, what actio-kv's connections run, is the same with
// a protocol error delivered as a last frame (Redis answers it, then
// closes) instead of closing the connection at once.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/drivers/types.hpp"
#include "actio/io/codec.hpp"

namespace kv {

using actio::io::decoded; // what `decode` found (io/codec.hpp)

/// A command: its arguments as byte strings, the name first.
using command = std::vector<std::string>;

/// A RESP2 reply.
struct reply;
struct simple_string { std::string text; };   ///< +OK
struct error_string { std::string text; };    ///< -ERR ...
struct bulk_string { std::optional<std::string> bytes; }; ///< $n / $-1
struct reply_array { std::optional<std::vector<reply>> items; }; ///< *n / *-1
struct reply {
  std::variant<simple_string, error_string, int64_t, bulk_string, reply_array>
    value;
};

reply ok();
reply error(std::string text); ///< "ERR ..." etc., without the '-'
reply integer(int64_t x);
reply bulk(std::string bytes);
reply null_bulk();

/// The limits a client's input must stay within (Redis's are in brackets).
struct resp_limits {
  size_t max_bulk = 16 * 1024 * 1024; ///< one argument (proto-max-bulk-len, 512 MiB)
  size_t max_args = 1024 * 1024;      ///< arguments of one command (1 Mi)
  size_t max_inline = 64 * 1024;      ///< one inline line (64 KiB)
  size_t max_command = 64 * 1024 * 1024; ///< a whole command's bytes (none)
};

class resp_codec {
public:
  using in_frame = command;
  using out_frame = reply;

  explicit resp_codec(resp_limits limits = {}) : limits_(limits) {}

  /// One command from the front of `data`. Empty commands (`*0`, a blank
  /// line) are consumed without a frame. Errors carry Redis's reply text
  /// ("Protocol error: ...") as their context (see `error_text`).
  decoded<in_frame> decode(const uint8_t* data, size_t size);
  /// At EOF: a last inline command without its newline is executed.
  decoded<in_frame> finish(const uint8_t* data, size_t size);
  /// Appends the RESP2 form of `r`.
  void encode(const out_frame& r, actio::byte_buffer& out) const;

  /// The reply text of a decode error ("Protocol error: invalid bulk length").
  static std::string error_text(const caf::error& err);

private:
  decoded<in_frame> decode_multibulk(const uint8_t* data, size_t size);
  decoded<in_frame> decode_inline(const uint8_t* data, size_t size, bool eof);
  resp_limits limits_;
};

/// A frame of `resp_frames`: a command, or (non-empty `error`, no
/// arguments) the reply text of a protocol error ("ERR Protocol error:
/// ..."), the last frame of that connection.
struct request {
  command args;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request& x) {
  return f(caf::meta::type_name("kv.request"), x.args, x.error);
}

/// `resp_codec` for `io::framed`: a protocol error becomes a `request`
/// carrying its reply text, and every byte after it is consumed without a
/// frame (the connection finishes).
class resp_frames {
public:
  using in_frame = request;
  using out_frame = reply;

  explicit resp_frames(resp_limits limits = {}) : codec_(limits) {}

  decoded<in_frame> decode(const uint8_t* data, size_t size) {
    return failed_ ? drop(size) : wrap(codec_.decode(data, size), size);
  }
  decoded<in_frame> finish(const uint8_t* data, size_t size) {
    return failed_ ? drop(size) : wrap(codec_.finish(data, size), size);
  }
  void encode(const out_frame& r, actio::byte_buffer& out) const {
    codec_.encode(r, out);
  }

private:
  static decoded<in_frame> drop(size_t size) {
    decoded<in_frame> d;
    d.consumed = size;
    return d;
  }
  decoded<in_frame> wrap(decoded<command> r, size_t size);
  resp_codec codec_;
  bool failed_ = false;
};

static_assert(actio::io::codec<resp_codec>);
static_assert(actio::io::codec_with_finish<resp_frames>);

} // namespace kv

// Replies stay in this process (connection <-> store): no serialisation.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kv::reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<kv::reply>)
