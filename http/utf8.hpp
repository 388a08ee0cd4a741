#pragma once

/// UTF-8 validation (RFC 3629): what a WebSocket text message and a close
/// reason must be (RFC 6455 §8.1).

#include <string_view>

namespace actio::http {

/// True if `text` is well-formed UTF-8: no overlong forms, no surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view text) noexcept;

} // namespace actio::http
