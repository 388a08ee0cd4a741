#pragma once
// RESP2 (the Redis protocol) as a codec for a framed connection: decodes
// commands (multibulk `*N\r\n$len\r\narg\r\n...` or an inline line
// `SET k v\r\n`) and encodes replies. It follows the codec interface of the
// framed connections (io/codec.hpp: decode / encode / finish,
// `io::decoded<Frame>`) so the session can move onto `io::framed` unchanged.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <caf/error.hpp>

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

} // namespace kv
