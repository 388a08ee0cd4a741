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
/// | `(file_open_atom, std::string path, int flags, uint32_t mode)` | `uint64_t` file |
/// | `(file_read_atom, file, uint64_t offset, uint64_t len)`   | `byte_buffer` (short only at EOF) |
/// | `(file_read_atom, file, std::vector<uint64_t> offsets, uint64_t len)` | `std::vector<byte_buffer>`, one per offset |
/// | `(file_write_atom, file, uint64_t offset, byte_buffer)`   | `uint64_t` bytes |
/// | `(file_fsync_atom, file, bool datasync)`                  | unit          |
/// | `(file_stat_atom, file)`                                  | `uint64_t` size |
/// | `(file_close_atom, file)`                                 | unit          |
/// | `(file_read_atom / file_write_atom, ..., uint64_t tag)`        | as above, cancellable |
/// | `(file_cancel_atom, uint64_t tag)`                        | `bool` found  |
/// | `(file_copy_atom, in, uint64_t in_offset, out, uint64_t out_offset, uint64_t len)` | `uint64_t` bytes copied (short only at `in`'s end) |
///
/// `flags` are open(2) flags (O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC, ...).
/// A tag names a read or write of the sender's for `file_cancel_atom`; a
/// cancelled operation completes with `errc::cancelled`.
///
/// A batch read (`offsets`) is one request and one answer for many reads
/// of one file: the kernel gets them together (one SQE each on io_uring,
/// in one submission; preads on one helper thread with epoll and aio), the
/// answer comes when all are done: every buffer, in the order of
/// `offsets`, each short only at EOF, or the first error. At most
/// `max_read_batch` reads and `max_read_batch_bytes` bytes per batch
/// (`errc::invalid_argument` beyond); not cancellable.
///
/// `file_copy_atom` copies between two open files inside the kernel
/// (copy_file_range, falling back to pread/pwrite where the kernel refuses:
/// different file system kinds, special files) on helper threads, on
/// descriptors of its own (io/file_copy.hpp): no buffer passes through the
/// mailbox, and closing either file while it runs is safe (the copy still
/// answers). It cannot be cancelled; its error names both paths
/// ("copy_range /a -> /b: No space left on device"), and after an error
/// the destination may hold part of the range.
///
/// The driver runs them: io_uring submits them to the ring, aio through
/// POSIX AIO; epoll and kqueue (regular files have no readiness) on a small
/// pool of helper threads.

#include <cstddef>
#include <cstdint>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "actio/actors/runtime.hpp"

namespace actio::io {

using file_open_atom = caf::atom_constant<caf::atom("f_open")>;
using file_read_atom = caf::atom_constant<caf::atom("f_read")>;
using file_write_atom = caf::atom_constant<caf::atom("f_write")>;
using file_fsync_atom = caf::atom_constant<caf::atom("f_fsync")>;
using file_stat_atom = caf::atom_constant<caf::atom("f_stat")>;
using file_close_atom = caf::atom_constant<caf::atom("f_close")>;
using file_cancel_atom = caf::atom_constant<caf::atom("f_cancel")>;
using file_copy_atom = caf::atom_constant<caf::atom("f_copy")>;

/// Most reads in one batch read.
inline constexpr size_t max_read_batch = 4096;
/// Most bytes one batch read may return (reads × len).
inline constexpr uint64_t max_read_batch_bytes = 64 * 1024 * 1024;

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
