#pragma once

/// A file service for other nodes: requests and completions are protobuf
/// messages (proto/io.proto) wrapped in `proto::message<>`, so they travel
/// through CAF's middleman (node::publish / node::connect) with the type
/// names registered by `register_proto_types` (node_config does that).
///
/// Each `proto::message<proto::io::Request>` is answered with exactly one
/// `proto::message<proto::io::Completion>` with the same id: `value` (open:
/// the handle; write_at: bytes written; stat: size; close: 0), `data`
/// (read_at: the bytes, short only at end of file) or `error` (an
/// `actio::errc` code and readable text). A `std::string` holding the wire
/// bytes of a Request is accepted too (for peers without the C++ type);
/// bytes that do not parse complete with id 0 and `errc::malformed`, and
/// so does a wrapper whose bytes do not parse (CAF delivers it empty).
///
/// Paths are relative to the root directory. They are resolved with
/// openat2(2) and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS on a descriptor of
/// the root, so absolute paths, `..` leaving the root and symlinks (also
/// intermediate ones, also absolute ones) leading outside it are refused
/// with `errc::permission_denied`; relative symlinks staying inside work.
/// Without openat2 (Linux < 5.6) every open is refused with
/// `errc::unsupported`. The confined open runs on a CAF worker thread, never
/// on a driver thread; the descriptor is then handed to a local file service
/// (io/file_service.hpp) which does the reads, writes, stat and close.
///
/// The service is an `actio::node_actor` (proto/node_guard.hpp): exit
/// messages from other nodes are dropped; stop it with
/// `actio::send_local_exit`.
///
/// Handles belong to the actor that opened them: another actor's handle is
/// `errc::invalid_argument`, a closed one `errc::closed`, one never issued
/// `errc::invalid_argument`. When the opener goes down (also a remote node
/// disconnecting), its files are closed; so are all files when the service
/// exits. open flags are open(2) flags (O_RDONLY, O_WRONLY | O_CREAT |
/// O_TRUNC, O_APPEND, O_EXCL, O_NOFOLLOW, O_DSYNC, O_SYNC); others are
/// `errc::invalid_argument`. Directories are `errc::is_directory`; other
/// files that are not regular (FIFOs, sockets, devices) are
/// `errc::invalid_argument`. The open never blocks (O_NONBLOCK, then
/// fstat), so a FIFO nobody writes to cannot hold the service.
///
/// Limits (`remote_file_options`), so that one client cannot make the
/// service hold unbounded work or buffers. A read_at asking for more than
/// `max_transfer` bytes, or a write_at carrying more, is
/// `errc::invalid_argument`: no read buffer is allocated, a write's data is
/// not copied. (The request message itself has been received by then; a
/// message above `actio.node.max-message-size` never is: its connection
/// closes at the BASP header, see proto/detail/basp_guard.hpp.) Each
/// client (the actor that sent the request; a client on another node
/// arrives as a proxy, one per remote actor) may have `max_in_flight`
/// requests and `max_bytes_in_flight` bytes of reads and writes in flight, i.e. accepted
/// and not yet completed; a request beyond either is refused at once with
/// `errc::too_many_requests`, which is its one completion. Other clients
/// are not affected. CAF mailboxes are unbounded and a request/response
/// protocol has no credit, so refusing (the client retries after a
/// completion) bounds the service where queueing would not.

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "actio/actors/metrics.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/actors/supervisor.hpp"

namespace actio::io {

/// The default largest read_at length and write_at size (16 MiB).
constexpr uint64_t max_remote_read = uint64_t{16} << 20;

/// Limits of a remote file service, each per client.
struct remote_file_options {
  /// Requests of one client accepted and not yet completed; beyond:
  /// `errc::too_many_requests`. At least 1.
  size_t max_in_flight = 64;
  /// Largest read_at length and write_at data size; beyond:
  /// `errc::invalid_argument`. At least 1.
  uint64_t max_transfer = max_remote_read;
  /// Bytes of one client's reads (their lengths) and writes (their sizes)
  /// accepted and not yet completed; beyond: `errc::too_many_requests`.
  /// At least `max_transfer`, so one request of any allowed size always
  /// fits when the client has nothing else in flight.
  uint64_t max_bytes_in_flight = uint64_t{64} << 20;
  /// Counts requests and error answers by operation and the bytes read and
  /// written (`actio_remote_file_requests_total{op}`,
  /// `actio_remote_file_errors_total{op}`,
  /// `actio_remote_file_{read,written}_bytes_total`) in this registry; null:
  /// not counted. It must outlive the service.
  metrics::registry* metrics = nullptr;
};

/// Opens `root` (a directory) and starts the service with its own local
/// file service on the runtime's next driver. Errors: the root cannot be
/// opened (not_found, permission_denied, ...) or is not a directory
/// (invalid_argument); options out of range (invalid_argument).
caf::expected<caf::actor>
spawn_remote_file_service(runtime& rt, const std::string& root,
                          remote_file_options opts = {});

/// A remote file service and the supervisor of the file service under it.
struct supervised_remote_file_service {
  caf::actor service;       ///< what to publish
  supervisor_handle files;  ///< the supervisor; its child is "files"
};

/// The same, with the local file service (the actor that does the reads,
/// writes, stat and close on a driver) running under a one_for_one
/// supervisor (actors/supervisor.hpp) as the permanent child "files", which
/// the remote service talks to through its stable front. A crash of the
/// file service restarts it, on the same driver: the driver owns the open
/// files, so the clients' handles stay valid. The requests the crash
/// swallowed complete with `errc::restarted`, the others are served as
/// usual. Beyond `sup`'s restart intensity the supervisor gives up and
/// file requests complete with its reason (`errc::restart_limit`).
/// Stop it with an exit message to `files.supervisor` besides the service's
/// `send_local_exit` (the supervisor and its front keep each other alive,
/// and an actor system waits for them when it ends).
/// (The supervised child is the file service, not the remote service: a
/// front in front of the remote service would be the only client it sees,
/// and the per-client limits, handle ownership and the closing of a
/// vanished client's files would no longer apply.)
caf::expected<supervised_remote_file_service>
spawn_supervised_remote_file_service(runtime& rt, const std::string& root,
                                     remote_file_options opts = {},
                                     supervisor_options sup = {});

} // namespace actio::io
