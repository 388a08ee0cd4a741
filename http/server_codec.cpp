#include "actio/http/server_codec.hpp"

#include <utility>

namespace actio::http {

namespace {

io::decoded<server_frame> wrap(io::decoded<request>&& d) {
  io::decoded<server_frame> r{std::nullopt, d.consumed, std::move(d.error)};
  if (d.frame) {
    r.frame.emplace();
    r.frame->req = std::move(*d.frame);
  }
  return r;
}

} // namespace

io::decoded<server_frame> server_codec::decode(const uint8_t* data, size_t size) {
  switch (mode_) {
    case mode::http: {
      auto d = http_.decode(data, size);
      if (d.frame && d.frame->upgrade && d.frame->error == 0)
        mode_ = mode::held; // the server answers first
      return wrap(std::move(d));
    }
    case mode::held:
      return {};
    case mode::websocket:
      break;
  }
  auto d = ws_.decode(data, size);
  io::decoded<server_frame> r{std::nullopt, d.consumed, std::move(d.error)};
  if (d.frame) {
    r.frame.emplace();
    r.frame->websocket = true;
    r.frame->ws = std::move(*d.frame);
  }
  return r;
}

io::decoded<server_frame> server_codec::finish(const uint8_t* data, size_t size) {
  if (mode_ == mode::http)
    return wrap(http_.finish(data, size));
  if (mode_ == mode::websocket && size > 0) {
    auto d = decode(data, size);
    if (d.frame)
      return d;
  }
  return {std::nullopt, size, {}};
}

void server_codec::encode(const ws_frame& f, byte_buffer& out) const {
  auto op = static_cast<ws_opcode>(f.kind);
  if (f.kind == ws_frame::close)
    encode_ws_frame(out, op, ws_close_payload(f.code, f.data));
  else
    encode_ws_frame(out, op, f.data);
}

} // namespace actio::http
