#pragma once

/// Peer identity for TLS between nodes: beyond "signed by our CA", the
/// peer's certificate must carry the name the operator expects.
///
/// The rule (checked with OpenSSL's X509_check_host / X509_check_ip_asc:
/// subjectAltName DNS or IP entries, the CN only for a DNS name and only
/// when the certificate has no DNS entries; wildcards as RFC 6125 allows):
///   - `actio.node.peer-names` given (comma-separated): every peer, both
///     the nodes this one connects to and the nodes connecting to it, must
///     carry one of these names;
///   - not given: a node this one connects to must carry the HOST it was
///     asked to connect to (node::connect, spawn_node_link, --peer
///     HOST:PORT, --workers ...), like HTTPS; a node connecting to this one
///     needs only a certificate from the CA.
/// A refused peer fails the TLS handshake. The reason ("certificate of
/// 127.0.0.1:7100 (CN=worker) names none of: client") is kept for
/// `node::connect`'s error, and for an incoming peer logged as a warning (actio/drivers/log.hpp).
///
/// libcaf_openssl 0.17 builds one SSL_CTX per connection and sets its
/// verification with `SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
/// SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr)`; this file defines
/// SSL_CTX_set_verify in the program (as tls_error_queue.hpp does for
/// SSL_read & co.) and adds a callback that applies the rule to the leaf
/// certificate after OpenSSL's own chain check passed. The settings are
/// process-wide; node_config::prepare() sets them when secure.

#include <cstdint>
#include <string>
#include <vector>

namespace actio {

/// Sets the names every peer must carry (empty: the rule's default).
void set_tls_peer_names(std::vector<std::string> names);

/// Before connecting to `host:port`: a peer reached at one of the
/// addresses `host` resolves to must carry `host` (when no peer names are
/// set).
void expect_tls_peer(const std::string& host, uint16_t port);

/// Why the last handshake with a peer at `host:port` was refused for its
/// name, or "" (cleared by `expect_tls_peer`).
std::string tls_peer_refusal(const std::string& host, uint16_t port);

/// True if libcaf_openssl's SSL_CTX_set_verify calls reach this file.
bool tls_peer_identity_active();

} // namespace actio
