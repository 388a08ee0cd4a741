// io_uring backend, part 2b: bulk mode of stream reads. A multishot recv
// into provided buffers suits many mostly idle connections (no memory per
// connection until bytes arrive), but a bulk stream then costs a copy out
// of every 2 KiB buffer into the `received` it becomes. Once a socket's
// multishot filled `bulk_enter` bytes of buffers in a row, the multishot is
// cancelled and the socket reads with one plain recv at a time into a
// buffer of its own, which moves to the owner as it is: no copy in user
// space. The buffer follows the stream (4-64 KiB, never beyond the
// credit); the recv is armed at the end of the driver's turn, with the
// credit of every grant made in it. After `bulk_exit_reads` recvs in a row
// that brought no more than a provided buffer holds, the socket goes back
// to the multishot. A bulk socket waiting for bytes holds its buffer (at
// most 64 KiB; it shrinks to 4 KiB as reads get small).

#include "actio/drivers/uring/uring_driver.hpp"

#include <algorithm>
#include <cerrno>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

/// Bounds of the bytes one owned recv asks for (never more than the
/// credit either); it starts at the smallest.
constexpr size_t bulk_min = 4 * 1024;
constexpr size_t bulk_max = 64 * 1024;

/// Owned recvs in a row that brought no more than one provided buffer
/// holds, after which the socket goes back to the multishot.
constexpr uint32_t bulk_exit_reads = 32;

} // namespace

void uring_driver::arm_owned_recv(uint32_t index) {
  auto& s = slots_[index];
  auto want = std::min<size_t>(s.credit, s.bulk_want);
  auto* o = new_op(op_kind::recv_owned);
  o->target = id_of(index);
  o->buf.resize(want); // the kernel writes here: the op owns it until its CQE
  s.recv_op = o;
  s.recv_cancel_sent = false;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_recv(e, s.fd, o->buf.data(), want, 0);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::on_recv_owned(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  s.recv_op = nullptr;
  --s.ops;
  if (s.closing) {
    op_done(o); // frees the buffer: the kernel is done with it
    maybe_finish_close(index);
    return;
  }
  if (res > 0) {
    auto n = static_cast<size_t>(res);
    auto want = o->buf.size();
    // The next buffer follows the stream: twice as large after a full
    // read (never below what it was: a read the credit cut short says
    // nothing about the stream), half after one that filled less than
    // half. A trickle (what one provided buffer holds) goes back to the
    // multishot.
    if (n == want)
      s.bulk_want = static_cast<uint32_t>(
        std::max<size_t>(s.bulk_want, std::min(2 * want, bulk_max)));
    else if (n < want / 2)
      s.bulk_want = static_cast<uint32_t>(std::max(want / 2, bulk_min));
    s.small_reads = n > uring_buffers::size ? 0 : s.small_reads + 1;
    s.bulk = s.small_reads < bulk_exit_reads;
    if (!s.bulk)
      s.probed = false; // the next recv takes one buffer first
    o->buf.resize(n);
    s.bytes_read += n;
    counters_.read(n);
    // Armed only with an empty stash and never beyond the credit.
    s.credit -= n;
    deliver(s.owner, received{id_of(index), std::move(o->buf)});
    op_done(o);
    ready_.push_back(index); // re-armed at the end of the turn (grant)
    return;
  }
  op_done(o);
  if (res == 0) {
    s.read_done = true;
    flush_stash(index); // read_closed
    return;
  }
  if (res == -ECANCELED || res == -EINTR || res == -EAGAIN) {
    arm_recv(index);
    return;
  }
  fail(index, make_errno_error("recv", -res));
}

} // namespace actio
