#pragma once

// A raw-socket WebSocket client for the tests (on http_client::conn): the
// opening handshake, masked frames built byte by byte (so the corpus can
// break any rule), and server frames read and checked strictly (a server
// frame must not be masked, its reserved bits are 0). Bounded waits only.

#include <cstdint>
#include <string>

#include "actio/http/websocket_frames.hpp"
#include "http/http_client.hpp"

namespace actio::test::ws {

using http_client::conn;

inline const std::string key = "dGhlIHNhbXBsZSBub25jZQ=="; // RFC 6455 §1.3

/// The upgrade request for `path`; `extra` header lines replace nothing.
inline std::string upgrade_request(const std::string& path = "/ws",
                                   const std::string& extra = "",
                                   const std::string& key_line
                                   = "Sec-WebSocket-Key: " + key + "\r\n",
                                   const std::string& version = "13") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\n" + key_line
         + "Sec-WebSocket-Version: " + version + "\r\n" + extra + "\r\n";
}

/// Sends the handshake and reads the answer (101 expected by callers).
inline http_client::reply handshake(conn& c, const std::string& path = "/ws") {
  if (!c.send(upgrade_request(path)))
    return {};
  return c.read(true);
}

/// One frame as bytes: `first` is FIN/RSV/opcode, the payload masked with
/// a fixed key unless `masked` is false.
inline std::string frame(uint8_t first, const std::string& payload,
                         bool masked = true) {
  static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  byte_buffer out;
  http::encode_ws_frame(out, static_cast<http::ws_opcode>(first & 0x0F),
                        payload, masked ? mask : nullptr, (first & 0x80) != 0);
  out[0] = first; // (reserved bits as given)
  return std::string(out.begin(), out.end());
}

inline std::string text(const std::string& s, bool fin = true) {
  return frame((fin ? 0x80 : 0) | 0x1, s);
}

inline std::string binary(const std::string& s, bool fin = true) {
  return frame((fin ? 0x80 : 0) | 0x2, s);
}

inline std::string continuation(const std::string& s, bool fin = true) {
  return frame((fin ? 0x80 : 0) | 0x0, s);
}

/// A close frame's payload: code (big-endian) and reason.
inline std::string close_payload(uint16_t code, const std::string& reason = "") {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + reason;
}

struct server_frame {
  int op = -1; // -1: none (EOF, timeout or a malformed server frame)
  bool fin = false;
  std::string payload;
  /// A close frame's code (1005 if it had none).
  uint16_t close_code() const {
    if (payload.size() < 2)
      return 1005;
    return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                 | static_cast<uint8_t>(payload[1]));
  }
};

/// Reads one server frame within `timeout`.
inline server_frame read_frame(conn& c, clock::duration timeout = 20s) {
  server_frame f;
  auto deadline = clock::now() + timeout;
  if (!c.want(2, deadline))
    return f;
  auto b0 = static_cast<uint8_t>(c.buf[0]);
  auto b1 = static_cast<uint8_t>(c.buf[1]);
  if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) {
    ADD_FAILURE() << "server frame with reserved bits or a mask";
    return f;
  }
  uint64_t len = b1 & 0x7F;
  size_t head = 2;
  if (len >= 126) {
    head = len == 126 ? 4 : 10;
    if (!c.want(head, deadline))
      return f;
    len = 0;
    for (size_t i = 2; i < head; ++i)
      len = (len << 8) | static_cast<uint8_t>(c.buf[i]);
  }
  if (!c.want(head + len, deadline))
    return f;
  f.op = b0 & 0x0F;
  f.fin = (b0 & 0x80) != 0;
  f.payload = c.buf.substr(head, len);
  c.buf.erase(0, head + len);
  return f;
}

/// Sends `bytes`, then expects a close frame with `code` (skipping nothing
/// else) and the server's EOF: the server ended this connection properly.
/// Then closes the socket, as a client does at the end of the handshake.
inline ::testing::AssertionResult closes_with(conn& c, const std::string& bytes,
                                              uint16_t code) {
  if (!c.send(bytes))
    return ::testing::AssertionFailure() << "send failed";
  auto f = read_frame(c);
  if (f.op != 0x8)
    return ::testing::AssertionFailure() << "no close frame (op " << f.op << ")";
  if (f.close_code() != code)
    return ::testing::AssertionFailure() << "close code " << f.close_code()
                                         << ", want " << code;
  if (!c.closed())
    return ::testing::AssertionFailure() << "no EOF after the close frame";
  ::close(c.fd);
  c.fd = -1;
  return ::testing::AssertionSuccess();
}

/// Sends a text message and expects its echo.
inline ::testing::AssertionResult echoes(conn& c, const std::string& msg) {
  if (!c.send(text(msg)))
    return ::testing::AssertionFailure() << "send failed";
  auto f = read_frame(c);
  if (f.op != 0x1 || !f.fin || f.payload != msg)
    return ::testing::AssertionFailure()
           << "echo: op " << f.op << " payload '" << f.payload << "'";
  return ::testing::AssertionSuccess();
}

} // namespace actio::test::ws
