#pragma once

/// The server's side of the WebSocket opening handshake (RFC 6455 §4.2).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actio/http/message.hpp"

namespace actio::http {

/// The request asks for a WebSocket (`Upgrade: websocket` on an upgrade).
bool wants_websocket(const request& req);

/// `Sec-WebSocket-Accept` for `key`: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

/// Checks a request that `wants_websocket`: a GET in HTTP/1.1 with a
/// `Sec-WebSocket-Key` of 16 base64 bytes (else 400), version 13 (else
/// 426, answered with `Sec-WebSocket-Version: 13`), an `Origin` among
/// `origins` when that is not empty (else 403). The refusal, or a
/// response with status 0 if the handshake is fine.
response check_websocket_upgrade(const request& req,
                                 const std::vector<std::string>& origins);

/// The 101 answer to a valid handshake.
response websocket_switch(const request& req);

} // namespace actio::http
