#include "actio/http/websocket_handshake.hpp"

#include <algorithm>
#include <cctype>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace actio::http {

namespace {

/// True if the comma-separated `list` holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item.size() == token.size()
        && std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a))
                    == std::tolower(static_cast<unsigned char>(b));
           }))
      return true;
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

/// 16 bytes in base64: 22 characters of the alphabet and "==".
bool valid_key(const std::string& key) {
  if (key.size() != 24 || key.compare(22, 2, "==") != 0)
    return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

response refuse(uint16_t status, std::string_view why) {
  return response::text(status, std::string{why} + "\n");
}

} // namespace

bool wants_websocket(const request& req) {
  auto* up = req.header("upgrade");
  return req.upgrade && up != nullptr && has_token(*up, "websocket");
}

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in{key};
  in += guid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  auto n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

response check_websocket_upgrade(const request& req,
                                 const std::vector<std::string>& origins) {
  if (req.method != "GET" || req.version != 11)
    return refuse(400, "a WebSocket handshake is a GET in HTTP/1.1");
  auto* conn = req.header("connection");
  if (conn == nullptr || !has_token(*conn, "upgrade"))
    return refuse(400, "Connection: Upgrade missing");
  auto* version = req.header("sec-websocket-version");
  if (version == nullptr || *version != "13") {
    auto r = refuse(426, "WebSocket version 13 required");
    r.headers.emplace_back("Sec-WebSocket-Version", "13");
    return r;
  }
  auto* key = req.header("sec-websocket-key");
  if (key == nullptr || !valid_key(*key))
    return refuse(400, "bad Sec-WebSocket-Key");
  if (!origins.empty()) {
    auto* origin = req.header("origin");
    if (origin == nullptr
        || std::find(origins.begin(), origins.end(), *origin) == origins.end())
      return refuse(403, "origin not allowed");
  }
  response ok;
  ok.status = 0;
  return ok;
}

response websocket_switch(const request& req) {
  response r;
  r.status = 101;
  r.omit_body = true;
  r.headers.emplace_back("Upgrade", "websocket");
  r.headers.emplace_back("Connection", "Upgrade");
  auto* key = req.header("sec-websocket-key");
  r.headers.emplace_back("Sec-WebSocket-Accept",
                         websocket_accept(key != nullptr ? *key : ""));
  return r;
}

} // namespace actio::http

namespace actio::http {

response response::accept_websocket(caf::actor handler) {
  response r;
  r.status = 101;
  r.ws_handler = std::move(handler);
  return r;
}

} // namespace actio::http
