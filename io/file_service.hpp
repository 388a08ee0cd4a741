#pragma once

/// File operations as messages. A file service is an actor pinned to one
/// driver; any actor (any thread) sends it requests and gets exactly one
/// response each: the result, or an `actio::errc` error whose text names
/// the operation, the path and the OS reason ("open /x: No such file or
/// directory"). Read buffers are owned by the response; write buffers are
/// owned by the driver until the kernel is done with them, also when the
/// requester has died or cancelled.
///
/// | request                                              | response      |
/// |------------------------------------------------------|---------------|
/// | `(open_atom, std::string path, int flags, uint32_t mode)` | `uint64_t` file |
/// | `(read_atom, file, uint64_t offset, uint64_t len)`   | `byte_buffer` (short only at EOF) |
/// | `(write_atom, file, uint64_t offset, byte_buffer)`   | `uint64_t` bytes |
/// | `(fsync_atom, file, bool datasync)`                  | unit          |
/// | `(stat_atom, file)`                                  | `uint64_t` size |
/// | `(close_atom, file)`                                 | unit          |
/// | `(read_atom / write_atom, ..., uint64_t tag)`        | as above, cancellable |
/// | `(cancel_atom, uint64_t tag)`                        | `bool` found  |
///
/// `flags` are open(2) flags (O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, ...).
/// A tag names a read or write of the sender's for `cancel_atom`; a
/// cancelled operation completes with `errc::cancelled`.
///
/// With io_uring the operations are submitted to the ring; with epoll they
/// run on a small worker pool (regular files have no readiness).

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "actio/actors/runtime.hpp"

namespace actio::io {

using open_atom = caf::atom_constant<caf::atom("f_open")>;
using read_atom = caf::atom_constant<caf::atom("f_read")>;
using write_atom = caf::atom_constant<caf::atom("f_write")>;
using fsync_atom = caf::atom_constant<caf::atom("f_fsync")>;
using stat_atom = caf::atom_constant<caf::atom("f_stat")>;
using close_atom = caf::atom_constant<caf::atom("f_close")>;
using cancel_atom = caf::atom_constant<caf::atom("f_cancel")>;

/// Starts a file service on `unit` (a driver thread of `rt`). Also sets
/// SIGXFSZ to ignored (if it has its default action), so a write beyond
/// RLIMIT_FSIZE fails with `errc::file_too_large` instead of killing the
/// process.
caf::actor spawn_file_service(driver_unit& unit);

/// Starts a file service on the runtime's next driver.
inline caf::actor spawn_file_service(runtime& rt) {
  return spawn_file_service(rt.next_unit());
}

} // namespace actio::io
