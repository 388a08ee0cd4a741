#pragma once

/// HTTP/1.1 messages as CAF messages: a `request` reaches a handler actor,
/// which answers with a `response` (http/server.hpp). Header names of a
/// request are lower-cased by the parser; values are as sent (obs-fold is
/// refused, so a value is one line).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/drivers/types.hpp"

namespace actio::http {

/// Header fields in order of arrival (a name may repeat).
using header_list = std::vector<std::pair<std::string, std::string>>;

/// `(pull_atom, uint64_t max) -> byte_buffer`: asks a streamed body's
/// source for its next 1..max bytes (see `response::body_source`).
using pull_atom = caf::atom_constant<caf::atom("http_pull")>;

/// `response::body_length` of a streamed body whose length is not known up
/// front: the source answers an empty buffer at its end, and the server
/// writes the body chunked (`Transfer-Encoding: chunked`) to an HTTP/1.1
/// client, delimited by closing the connection to an HTTP/1.0 client.
inline constexpr uint64_t unknown_length = ~uint64_t{0};

/// One request, body included (bounded by `limits::max_body`).
struct request {
  std::string method;  ///< "GET", "HEAD", "POST", ...
  std::string target;  ///< the request target as sent
  std::string path;    ///< the target's path, still percent-encoded
  std::string query;   ///< after '?', without it; empty if none
  uint16_t version = 11; ///< 10 (HTTP/1.0) or 11 (HTTP/1.1)
  header_list headers;   ///< names lower-cased
  byte_buffer body;      ///< de-chunked
  bool keep_alive = true; ///< the client lets the connection stay open
  /// The client asked to switch protocols (`Upgrade:`). Not taken up yet:
  /// such a request is answered as HTTP, then the connection closes.
  bool upgrade = false;
  // -- set by the codec for the server, not for handlers ---------------------
  /// Non-zero: the request is malformed; answer this status and close.
  uint16_t error = 0;
  std::string error_text; ///< why (for the response body and the log)
  /// Headers only of a request sent with `Expect: 100-continue` whose body
  /// has not arrived; the whole request follows as another frame.
  bool interim = false;

  /// The first value of header `name` (lower case), or nullptr.
  const std::string* header(std::string_view name) const;
};

/// A response. The server adds `Date`, `Content-Length` (or
/// `Transfer-Encoding: chunked`) and `Connection`; a handler sets the
/// status, its own headers and the body, or streams a body from
/// `body_source`.
struct response {
  uint16_t status = 200;
  header_list headers;
  byte_buffer body;
  /// If set, the body is `body_length` bytes pulled from this actor with
  /// `(pull_atom, max)` one piece at a time, the next piece only once the
  /// previous one was written (backpressure); `body` is ignored. The
  /// server sends it an exit message when it is done with it.
  caf::actor body_source;
  /// The streamed body's length, or `unknown_length` (then the source's
  /// empty answer ends the body); also the Content-Length of an answer
  /// without body_source and with an empty `body` (a HEAD answer that
  /// states the length a GET would get).
  uint64_t body_length = 0;
  // -- set by the server for the codec ---------------------------------------
  bool omit_body = false; ///< HEAD, 304: the head only
  bool data_only = false; ///< a piece of a streamed body: no head
  /// With `data_only`: the piece is written as one chunk of a chunked
  /// body; an empty one is the last chunk (`0\r\n\r\n`).
  bool chunk = false;

  /// A response with `content_type` (default text/plain) and `text`.
  static response text(uint16_t status, std::string_view text,
                       std::string_view content_type = "text/plain");
};

/// The reason phrase of `status` ("Not Found"); "<unknown>" if none.
const char* reason_phrase(uint16_t status);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, request& x) {
  return f(caf::meta::type_name("actio.http.request"), x.method, x.target,
           x.path, x.query, x.version, x.headers, x.body, x.keep_alive,
           x.upgrade, x.error, x.error_text, x.interim);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, response& x) {
  return f(caf::meta::type_name("actio.http.response"), x.status, x.headers,
           x.body, x.body_source, x.body_length, x.omit_body, x.data_only, x.chunk);
}

} // namespace actio::http
