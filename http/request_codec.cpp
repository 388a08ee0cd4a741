#include "actio/http/request_codec.hpp"

#include <http_parser.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

namespace actio::http {

/// The parser state of one connection. http-parser is streaming: every
/// byte given to it is consumed, and the request grows in `cur` through
/// its callbacks. The head is fed only up to its end (found by `scan`), so
/// a pipelined request behind a body is never parsed early, and the parser
/// pauses at the end of each message.
struct request_codec::impl {
  limits lim;
  http_parser parser{};
  http_parser_settings settings{};
  request cur;
  bool in_head = true;      // before the head's empty line
  bool value_last = false;  // the last callback was a header value
  bool complete = false;    // on_message_complete fired
  bool want_continue = false;
  bool failed = false;
  uint16_t status = 0;      // a limit or check failed in a callback
  std::string why;
  // head scan
  size_t head_bytes = 0;
  size_t line_len = 0;
  size_t lines = 0;
  bool cr = false;
  bool head_end = false;
  bool colon = false; // seen in this header line

  explicit impl(limits l) : lim(l) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    http_parser_settings_init(&settings);
    settings.on_message_begin = [](http_parser* p) {
      auto* self = static_cast<impl*>(p->data);
      self->cur = request{};
      self->value_last = false;
      return 0;
    };
    settings.on_url = [](http_parser* p, const char* at, size_t n) {
      auto* self = static_cast<impl*>(p->data);
      if (self->cur.target.size() + n > self->lim.max_uri)
        return self->fail(414, "request target longer than "
                                 + std::to_string(self->lim.max_uri) + " bytes");
      self->cur.target.append(at, n);
      return 0;
    };
    settings.on_header_field = [](http_parser* p, const char* at, size_t n) {
      auto* self = static_cast<impl*>(p->data);
      auto& hs = self->cur.headers;
      if (hs.empty() || self->value_last) {
        if (hs.size() == self->lim.max_headers)
          return self->fail(431, "more than "
                                   + std::to_string(self->lim.max_headers)
                                   + " header fields");
        hs.emplace_back();
      }
      self->value_last = false;
      hs.back().first.append(at, n);
      return 0;
    };
    settings.on_header_value = [](http_parser* p, const char* at, size_t n) {
      auto* self = static_cast<impl*>(p->data);
      self->value_last = true;
      self->cur.headers.back().second.append(at, n);
      return 0;
    };
    settings.on_headers_complete = [](http_parser* p) {
      return static_cast<impl*>(p->data)->headers_complete();
    };
    settings.on_body = [](http_parser* p, const char* at, size_t n) {
      auto* self = static_cast<impl*>(p->data);
      auto& body = self->cur.body;
      if (body.size() + n > self->lim.max_body)
        return self->fail(413, "body longer than "
                                 + std::to_string(self->lim.max_body) + " bytes");
      body.insert(body.end(), reinterpret_cast<const uint8_t*>(at),
                  reinterpret_cast<const uint8_t*>(at) + n);
      return 0;
    };
    settings.on_message_complete = [](http_parser* p) {
      auto* self = static_cast<impl*>(p->data);
      self->complete = true;
      http_parser_pause(p, 1); // one request per decode
      return 0;
    };
  }

  int fail(uint16_t code, std::string text) {
    if (status == 0) {
      status = code;
      why = std::move(text);
    }
    return 1; // stops the parser
  }

  int headers_complete() {
    for (auto& h : cur.headers)
      for (auto& c : h.first)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    cur.method = http_method_str(static_cast<http_method>(parser.method));
    cur.version = static_cast<uint16_t>(parser.http_major * 10 + parser.http_minor);
    if (parser.http_major != 1)
      return fail(505, "HTTP version not supported");
    cur.keep_alive = http_should_keep_alive(&parser) != 0;
    cur.upgrade = parser.upgrade != 0;
    if ((parser.flags & F_CONTENTLENGTH) != 0
        && parser.content_length > lim.max_body)
      return fail(413, "Content-Length over " + std::to_string(lim.max_body));
    http_parser_url u;
    http_parser_url_init(&u);
    if (cur.method == "CONNECT"
        || http_parser_parse_url(cur.target.data(), cur.target.size(), 0, &u) != 0
        || (u.field_set & (1 << UF_PATH)) == 0)
      return fail(400, "request target is not a path");
    cur.path = cur.target.substr(u.field_data[UF_PATH].off,
                                 u.field_data[UF_PATH].len);
    if ((u.field_set & (1 << UF_QUERY)) != 0)
      cur.query = cur.target.substr(u.field_data[UF_QUERY].off,
                                    u.field_data[UF_QUERY].len);
    if (auto* e = cur.header("expect")) {
      std::string v = *e;
      for (auto& c : v)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (v != "100-continue")
        return fail(417, "unsupported Expect: " + *e);
      bool has_body = (parser.flags & F_CHUNKED) != 0
                      || ((parser.flags & F_CONTENTLENGTH) != 0
                          && parser.content_length > 0);
      want_continue = has_body && cur.version >= 11;
    }
    return 0;
  }

  /// The strict pre-scan of the head: CR LF line ends only, no obs-fold,
  /// no NUL, the size limits. Returns how many bytes of `data` belong to
  /// the head (all if its end is not there yet), or sets `status`.
  size_t scan(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      auto b = data[i];
      ++head_bytes;
      if (b == 0) {
        fail(400, "NUL byte in the request head");
        return i;
      }
      if (cr) {
        cr = false;
        if (b != '\n') {
          fail(400, "bare CR in the request head");
          return i;
        }
        if (line_len == 0) {
          if (lines == 0) { // empty lines before a request are ignored
            head_bytes = 0;
            continue;
          }
          head_end = true;
          return i + 1; // the head ends here
        }
        ++lines;
        line_len = 0;
        colon = false;
        continue;
      }
      if (b == '\r') {
        cr = true;
        continue;
      }
      if (b == '\n') {
        fail(400, "bare LF in the request head");
        return i;
      }
      if (line_len == 0 && lines > 0 && (b == ' ' || b == '\t')) {
        fail(400, "obsolete line folding (obs-fold) in a header");
        return i;
      }
      if (lines > 0 && !colon) {
        if (b == ':') {
          colon = true;
        } else if (b == ' ' || b == '\t') {
          fail(400, "white space in a header name");
          return i;
        }
      }
      ++line_len;
      if (lines == 0 && line_len > lim.max_uri + 32) { // method, version
        fail(414, "request line longer than the target limit");
        return i;
      }
      if (head_bytes > lim.max_header_bytes) {
        fail(lines == 0 ? 414 : 431,
             "request head longer than "
               + std::to_string(lim.max_header_bytes) + " bytes");
        return i;
      }
    }
    return size;
  }

  void new_head() {
    in_head = true;
    head_bytes = line_len = lines = 0;
    cr = head_end = colon = false;
  }

  io::decoded<request> error_frame(size_t size) {
    failed = true;
    request r;
    r.error = status != 0 ? status : 400;
    r.error_text = why;
    r.keep_alive = false;
    return {std::move(r), size, {}};
  }

  io::decoded<request> decode(const uint8_t* data, size_t size) {
    if (failed)
      return {std::nullopt, size, {}};
    if (size == 0) // (no bytes would mean EOF to http-parser)
      return {};
    if (HTTP_PARSER_ERRNO(&parser) == HPE_PAUSED)
      http_parser_pause(&parser, 0);
    size_t feed = size;
    if (in_head) {
      feed = scan(data, size);
      if (status != 0)
        return error_frame(size);
    }
    auto n = http_parser_execute(&parser, &settings,
                                 reinterpret_cast<const char*>(data), feed);
    auto err = HTTP_PARSER_ERRNO(&parser);
    if (status != 0 || (err != HPE_OK && err != HPE_PAUSED)) {
      if (status == 0)
        fail(err == HPE_HEADER_OVERFLOW ? 431 : 400,
             http_errno_description(err));
      return error_frame(size);
    }
    if (in_head && head_end) // the head ended within `data`
      in_head = false;
    if (complete) {
      complete = false;
      want_continue = false;
      new_head();
      request r = std::move(cur);
      cur = request{};
      if (r.upgrade) { // the bytes after the head are another protocol's
        r.keep_alive = false;
        failed = true;
        return {std::move(r), n, {}};
      }
      return {std::move(r), n, {}};
    }
    if (want_continue && !in_head) {
      want_continue = false;
      request head = cur; // the body follows in the next frame
      head.interim = true;
      return {std::move(head), n, {}};
    }
    return {std::nullopt, n, {}};
  }
};

const std::string* request::header(std::string_view name) const {
  for (auto& h : headers)
    if (h.first == name)
      return &h.second;
  return nullptr;
}

request_codec::request_codec(limits lim)
  : lim_(lim), impl_(std::make_unique<impl>(lim)) {
}

request_codec::request_codec(const request_codec& other)
  : request_codec(other.lim_) {
}

request_codec::request_codec(request_codec&&) noexcept = default;

request_codec::~request_codec() = default;

io::decoded<request> request_codec::decode(const uint8_t* data, size_t size) {
  return impl_->decode(data, size);
}

io::decoded<request> request_codec::finish(const uint8_t* data, size_t size) {
  if (size > 0) {
    auto d = decode(data, size);
    if (d.frame || d.error)
      return d;
  }
  if (!impl_->failed && in_progress()) {
    impl_->fail(400, "connection closed inside a request");
    return impl_->error_frame(0);
  }
  return {std::nullopt, size, {}};
}

bool request_codec::in_progress() const noexcept {
  return !impl_->failed
         && (!impl_->in_head || impl_->head_bytes > 0 || impl_->cr);
}

bool request_codec::failed() const noexcept {
  return impl_->failed;
}

void request_codec::encode(const response& res, byte_buffer& out) const {
  auto put = [&out](std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
  };
  // One allocation: grown piece by piece, the buffer reallocated ~8 times
  // per response (malloc was ~13% of actio-httpd's CPU at 1,000 conns).
  size_t want = res.body.size() + 64; // status line, chunk framing
  if (!res.data_only)
    for (auto& h : res.headers)
      want += h.first.size() + h.second.size() + 4;
  out.reserve(out.size() + want);
  if (!res.data_only) {
    put("HTTP/1.1 ");
    put(std::to_string(res.status));
    put(" ");
    put(reason_phrase(res.status));
    put("\r\n");
    for (auto& h : res.headers) {
      put(h.first);
      put(": ");
      put(h.second);
      put("\r\n");
    }
    put("\r\n");
  }
  if (res.omit_body)
    return;
  if (res.data_only && res.chunk) { // size in hex, CRLF, data, CRLF
    char size[24];
    auto n = std::snprintf(size, sizeof(size), "%zx\r\n", res.body.size());
    put(std::string_view{size, static_cast<size_t>(n)});
    out.insert(out.end(), res.body.begin(), res.body.end());
    put("\r\n"); // after the last chunk ("0\r\n"): the empty trailer
    return;
  }
  out.insert(out.end(), res.body.begin(), res.body.end());
}

const char* reason_phrase(uint16_t status) {
  return http_status_str(static_cast<http_status>(status));
}

response response::text(uint16_t status, std::string_view text,
                        std::string_view content_type) {
  response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string{content_type});
  r.body.assign(text.begin(), text.end());
  return r;
}

} // namespace actio::http
