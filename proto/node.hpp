#pragma once

/// Nodes: actor systems in different processes (or hosts) talking through
/// CAF's own middleman (BASP over TCP), optionally over TLS with mutual
/// certificates (libcaf_openssl). No protocol of our own.
///
/// ```
/// actio::node_config cfg;                 // adds --actio.node.* options
/// cfg.parse_args(argc, argv);
/// if (auto err = cfg.prepare())           // validates TLS, loads modules:
///   return fail(err);                     // BEFORE the actor system starts
/// caf::actor_system sys{cfg};
/// auto port = actio::node::publish(sys, worker, cfg.node);   // serve
/// auto peer = actio::node::connect(sys, "127.0.0.1", p, cfg.node); // use
/// // or, watched and reconnected: actio::spawn_node_link (node_link.hpp)
/// ```
///
/// | option                          | default   | effect                                   |
/// |---------------------------------|-----------|------------------------------------------|
/// | actio.node.host                 | 127.0.0.1 | address `publish` binds to               |
/// | actio.node.port                 | 0         | port `publish` binds to (0: any)         |
/// | actio.node.secure               | false     | TLS with mutual certificates             |
/// | actio.node.certificate          | ""        | this node's certificate (PEM chain)      |
/// | actio.node.key                  | ""        | this node's private key (PEM)            |
/// | actio.node.passphrase           | ""        | passphrase of the key, if encrypted      |
/// | actio.node.cafile               | ""        | CA certificates trusted for peers (PEM)  |
/// | actio.node.heartbeat-interval   | 1s        | BASP heartbeats (0: off)                 |
/// | actio.node.connection-timeout   | 5s        | a peer silent this long is down (0: off) |
/// | actio.node.connect-attempts     | 10        | tries of `connect` before it gives up    |
/// | actio.node.retry-delay          | 200ms     | pause between tries, and between         |
/// |                                 |           | reconnect attempts of a node link        |
/// | actio.node.insecure             | false     | allow a plain port off loopback          |
/// | actio.node.max-message-size     | 32 MiB    | largest BASP payload accepted            |
/// | actio.node.peer-names           | ""        | names a peer's certificate must carry    |
///
/// Who may talk to a node port: a plain (non-TLS) port authenticates
/// nobody, so it binds only to a loopback address (127.0.0.0/8, ::1,
/// localhost) unless `insecure` is set explicitly; any other host (also ""
/// = every interface) needs `secure`. `prepare` refuses the rest. And on
/// every BASP connection, plain or TLS, a message header announcing more
/// than `max-message-size` bytes closes that connection before anything
/// is allocated (basp_guard.hpp); with TLS the header is only read after
/// the peer's certificate has been verified.
///
/// With `secure`, certificate, key and cafile must all be given, readable
/// and valid (the key matches the certificate, the certificate is signed by
/// the CA): `prepare` checks this with OpenSSL and returns a readable error
/// otherwise. So a node never falls back to CAF's anonymous (unauthenticated)
/// TLS, and CAF never meets a half configuration (a CA file without a
/// certificate makes CAF 0.17.6 call std::terminate). A secure node accepts
/// and connects only to peers with a certificate from its CA; plain nodes
/// and peers from another CA fail the handshake. And the certificate must
/// name the peer (tls_peer_identity.hpp): with `peer-names` (comma-
/// separated) every peer, in and out, carries one of them; without, a node
/// connected to carries the host it was reached by.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "actio/actors/config.hpp"

namespace actio {

/// Node settings (see the table above).
struct node_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  bool secure = false;
  std::string certificate;
  std::string key;
  std::string passphrase;
  std::string cafile;
  caf::timespan heartbeat_interval = std::chrono::seconds{1};
  caf::timespan connection_timeout = std::chrono::seconds{5};
  size_t connect_attempts = 10;
  caf::timespan retry_delay = std::chrono::milliseconds{200};
  bool insecure = false;
  uint64_t max_message_size = uint64_t{32} << 20;
  std::string peer_names;
};

/// An actio::config with the `actio.node.*` options and `prepare()`.
class node_config : public config {
public:
  node_config();

  /// Checks the node options (TLS files with OpenSSL), loads the middleman
  /// (and the openssl module when secure) and hands heartbeats and
  /// certificates to CAF. Call once after parsing, before constructing the
  /// actor system. Errors are `errc::invalid_argument` with a message.
  caf::error prepare();

  node_options node;
};

/// Checks `opts.secure` settings without touching CAF: with secure, every
/// file given, readable, parseable, key matching certificate, certificate
/// signed by the CA. Without secure, TLS files are an error too (they would
/// be ignored), and so is a host other than loopback unless `insecure`.
/// `max_message_size` must be at least 64 KiB. Returns a readable error.
caf::error validate_node_options(const node_options& opts);

namespace node {

/// Publishes `whom` on `opts.host:port` (plain or TLS, as configured; `port`
/// 0 picks one; SO_REUSEADDR, so a restarted node gets its port back while
/// old connections linger in TIME_WAIT). Returns the bound port. `whom`
/// must be guarded against remote exit messages (node_guard.hpp:
/// `node_guarded`), else `errc::invalid_argument`.
/// Blocking: call from main or a blocking context, not from an event-based
/// actor.
caf::expected<uint16_t> publish(caf::actor_system& sys, const caf::actor& whom,
                                const node_options& opts);

/// The middleman actor that connects the way `opts` says (TLS or plain);
/// for asynchronous connects from actors: `request(mm, timeout,
/// caf::connect_atom::value, host, port)` replies (node_id,
/// strong_actor_ptr, set<string>).
caf::io::middleman_actor middleman(caf::actor_system& sys,
                                   const node_options& opts);

/// Connects to the actor published at host:port, trying up to
/// `opts.connect_attempts` times `opts.retry_delay` apart, each try bounded
/// by `opts.connection_timeout` (or 5 s if 0). Blocking (see publish).
/// Errors: the last try's error (e.g. connection refused, handshake failed).
caf::expected<caf::actor> connect(caf::actor_system& sys,
                                  const std::string& host, uint16_t port,
                                  const node_options& opts);

/// "HOST:PORT" → (host, port); IPv6 as "[::1]:PORT".
caf::expected<std::pair<std::string, uint16_t>>
parse_address(const std::string& text);

} // namespace node

} // namespace actio
