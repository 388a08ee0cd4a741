#pragma once

/// `request_codec`: the HTTP/1.1 codec of a framed connection
/// (io/framed.hpp). Decoding parses requests with Debian's http-parser
/// (libhttp-parser-dev, the parser Node.js used until 2020) behind a
/// stricter pre-scan of the head; encoding writes responses.
///
/// Decoding yields one `request` per request, in order (pipelining), with
/// its whole body (Content-Length or chunked, de-chunked). A request sent
/// with `Expect: 100-continue` first yields its head alone (`interim`).
/// Bad input yields a request with `error` set to the status to answer —
/// 400 (malformed: bare LF or CR, obs-fold, NUL, both Content-Length and
/// Transfer-Encoding, a repeated Content-Length, a bad chunk size, ...),
/// 413 (body over `max_body`), 414 (target over `max_uri`), 417 (an
/// Expect other than 100-continue), 431 (head over `max_header_bytes` or
/// more than `max_headers` fields) — and then the codec consumes and drops
/// everything after it: the server answers and closes that connection.
///
/// Encoding writes a response's status line, its headers as given (the
/// server adds Date, Content-Length, Connection) and its body unless
/// `omit_body`; a `data_only` response is body bytes alone.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "actio/http/message.hpp"
#include "actio/io/codec.hpp"

namespace actio::http {

/// Limits of one request.
struct limits {
  size_t max_header_bytes = 8 * 1024; ///< request line + headers; over: 431 (414 in the request line)
  size_t max_headers = 100;           ///< header fields; over: 431
  size_t max_uri = 4 * 1024;          ///< request target; over: 414
  size_t max_body = 1024 * 1024;      ///< de-chunked body; over: 413
};

class request_codec {
public:
  using in_frame = request;
  using out_frame = response;

  explicit request_codec(limits lim = {});
  request_codec(const request_codec& other);
  request_codec& operator=(const request_codec&) = delete;
  request_codec(request_codec&&) noexcept;
  ~request_codec();

  io::decoded<request> decode(const uint8_t* data, size_t size);

  /// At the peer's EOF: a request cut short is answered 400 (a half-closed
  /// peer may still read); empty lines alone are nothing.
  io::decoded<request> finish(const uint8_t* data, size_t size);

  void encode(const response& res, byte_buffer& out) const;

  /// Part of a request has arrived (not counting empty lines between
  /// requests); the server's request timeout answers 408 then.
  bool in_progress() const noexcept;

  /// A request was malformed: everything after it is dropped.
  bool failed() const noexcept;

  const limits& lims() const noexcept {
    return lim_;
  }

  struct impl;

private:
  limits lim_;
  std::unique_ptr<impl> impl_;
};

} // namespace actio::http
