#include "actio/http/websocket_frames.hpp"

#include <utility>

#include "actio/http/utf8.hpp"

namespace actio::http {

bool valid_close_code(uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

void encode_ws_frame(byte_buffer& out, ws_opcode op, std::string_view payload,
                     const uint8_t* mask, bool fin) {
  auto n = payload.size();
  out.push_back(static_cast<uint8_t>((fin ? 0x80 : 0) | static_cast<uint8_t>(op)));
  uint8_t m = mask != nullptr ? 0x80 : 0;
  if (n < 126) {
    out.push_back(static_cast<uint8_t>(m | n));
  } else if (n <= 0xFFFF) {
    out.push_back(m | 126);
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n));
  } else {
    out.push_back(m | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(n) >> shift));
  }
  if (mask == nullptr) {
    out.insert(out.end(), payload.begin(), payload.end());
    return;
  }
  out.insert(out.end(), mask, mask + 4);
  for (size_t i = 0; i < n; ++i)
    out.push_back(static_cast<uint8_t>(payload[i]) ^ mask[i % 4]);
}

std::string ws_close_payload(uint16_t code, std::string_view reason) {
  if (code == ws_status::no_status)
    return {};
  std::string s;
  s.push_back(static_cast<char>(code >> 8));
  s.push_back(static_cast<char>(code & 0xFF));
  s.append(reason.substr(0, 123)); // a control frame holds 125 bytes
  return s;
}

io::decoded<ws_frame> ws_decoder::fail(uint16_t code, std::string why,
                                       size_t size) {
  failed_ = true;
  partial_.clear();
  ws_frame f;
  f.kind = ws_frame::error;
  f.code = code;
  f.data = std::move(why);
  return {std::move(f), size, {}};
}

io::decoded<ws_frame> ws_decoder::decode(const uint8_t* data, size_t size) {
  if (failed_)
    return {std::nullopt, size, {}};
  if (size < 2)
    return {};
  bool fin = (data[0] & 0x80) != 0;
  auto op = static_cast<uint8_t>(data[0] & 0x0F);
  if ((data[0] & 0x70) != 0)
    return fail(ws_status::protocol_error, "reserved bits set", size);
  if (op > 2 && op != 8 && op != 9 && op != 10)
    return fail(ws_status::protocol_error, "unknown opcode", size);
  if ((data[1] & 0x80) == 0)
    return fail(ws_status::protocol_error, "client frame not masked", size);
  bool control = (op & 0x8) != 0;
  uint64_t len = data[1] & 0x7F;
  if (control && !fin)
    return fail(ws_status::protocol_error, "fragmented control frame", size);
  if (control && len > 125)
    return fail(ws_status::protocol_error, "control frame over 125 bytes", size);
  size_t head = 2;
  if (len == 126) {
    if (size < 4)
      return {};
    len = (uint64_t{data[2]} << 8) | data[3];
    head = 4;
  } else if (len == 127) {
    if (size < 10)
      return {};
    len = 0;
    for (size_t i = 2; i < 10; ++i)
      len = (len << 8) | data[i];
    if ((len >> 63) != 0)
      return fail(ws_status::protocol_error, "payload length over 2^63", size);
    head = 10;
  }
  if (!control) {
    if (op == 0 && partial_op_ == 0)
      return fail(ws_status::protocol_error, "continuation without a message",
                  size);
    if (op != 0 && partial_op_ != 0)
      return fail(ws_status::protocol_error,
                  "new message inside a fragmented one", size);
    if (len > max_message_ - partial_.size())
      return fail(ws_status::too_big,
                  "message over " + std::to_string(max_message_) + " bytes",
                  size);
  }
  head += 4; // the masking key
  if (size < head || size - head < len)
    return {}; // the whole frame first (bounded by max_message)
  const uint8_t* key = data + head - 4;
  std::string payload(static_cast<size_t>(len), '\0');
  for (size_t i = 0; i < len; ++i)
    payload[i] = static_cast<char>(data[head + i] ^ key[i % 4]);
  size_t used = head + static_cast<size_t>(len);
  ws_frame f;
  if (control) {
    f.kind = static_cast<ws_frame::kind_t>(op);
    if (op == 8) {
      if (len == 1)
        return fail(ws_status::protocol_error, "close frame of 1 byte", size);
      f.code = ws_status::no_status;
      if (len >= 2) {
        f.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                       | static_cast<uint8_t>(payload[1]));
        if (!valid_close_code(f.code))
          return fail(ws_status::protocol_error,
                      "invalid close code " + std::to_string(f.code), size);
        payload.erase(0, 2);
        if (!valid_utf8(payload))
          return fail(ws_status::invalid_data, "close reason not UTF-8", size);
      }
    }
    f.data = std::move(payload);
    return {std::move(f), used, {}};
  }
  if (op != 0)
    partial_op_ = op;
  if (partial_.empty())
    partial_ = std::move(payload);
  else
    partial_ += payload;
  if (!fin)
    return {std::nullopt, used, {}};
  f.kind = static_cast<ws_frame::kind_t>(partial_op_);
  f.data = std::move(partial_);
  partial_.clear();
  partial_op_ = 0;
  if (f.kind == ws_frame::text && !valid_utf8(f.data))
    return fail(ws_status::invalid_data, "text message not UTF-8", size);
  return {std::move(f), used, {}};
}

} // namespace actio::http
