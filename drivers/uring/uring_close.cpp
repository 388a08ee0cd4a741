// io_uring backend, part 4: failing and closing sockets (cancel in the
// kernel, close after the last CQE) and closing everything at the end.

#include "actio/drivers/uring/uring_driver.hpp"

#include <cerrno>

#include <unistd.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_internal.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

void uring_driver::close(socket_id id, caf::error reason) {
  counters_.request(driver_request::close);
  if (find(id) != nullptr)
    begin_close(static_cast<uint32_t>(id), std::move(reason));
}

/// The socket is broken: fail what is queued, then close.
void uring_driver::fail(uint32_t index, caf::error err) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.send_op == nullptr) // else after the send in flight (in order)
    s.wq.fail_all(to_owner(s), id, err);
  if (!s.read_done) {
    s.read_done = true;
    s.read_error = err;
  }
  s.stash.clear();
  s.stash_off = 0;
  s.stash_bytes = 0;
  if (!s.read_reported && !s.listener) {
    s.read_reported = true;
    deliver(s.owner, read_closed{id, err});
  }
  begin_close(index, std::move(err));
}

/// Closing: queued requests complete now (with `reason`, or cancelled); in-flight ones
/// are cancelled in the kernel and complete when their CQE arrives. The fd
/// is closed (IORING_OP_CLOSE) only after the last of them.
void uring_driver::begin_close(uint32_t index, caf::error reason) {
  auto& s = slots_[index];
  if (s.closing)
    return;
  auto id = id_of(index);
  s.closing = true;
  s.close_reason = std::move(reason);
  auto out = to_owner(s);
  // Queued writes complete after the one in the kernel (on_send does it),
  // so the owner sees its writes complete in the order it made them.
  if (s.datagram || s.send_op == nullptr)
    s.wq.fail_all(out, id, s.close_reason);
  s.dq.fail_all(out, id, s.close_reason);
  backoff_.end(s.accept);
  if (s.ops > 0) {
    auto* e = sqe();
    io_uring_prep_cancel_fd(e, s.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(e, detail::uring_ignore_token);
  }
  maybe_finish_close(index);
}

void uring_driver::maybe_finish_close(uint32_t index) {
  auto& s = slots_[index];
  if (!s.closing || s.ops > 0 || s.fd < 0)
    return;
  auto* o = new_op(op_kind::close_socket);
  o->target = id_of(index);
  o->fd = s.fd;
  auto* e = sqe();
  io_uring_prep_close(e, s.fd);
  io_uring_sqe_set_data(e, o);
  s.ops = 1; // the close itself
}

void uring_driver::on_close_socket(op* o, int) {
  auto index = static_cast<uint32_t>(o->target);
  op_done(o);
  auto& s = slots_[index];
  auto id = id_of(index);
  auto owner = std::move(s.owner);
  auto reason = std::move(s.close_reason);
  slots_.release(index);
  deliver(owner, connection_closed{id, std::move(reason)});
  // A descriptor was freed: listeners waiting out EMFILE can try again now
  // (closing ones ended their wait in begin_close).
  backoff_.retry_all(slots_, [this](uint32_t i) { ready_.push_back(i); });
}

void uring_driver::close_all() {
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].fd >= 0 && !slots_[i].closing)
      begin_close(i, make_actio_error(errc::shutting_down, "driver closed"));
  for (uint32_t i = 0; i < files_.size(); ++i) {
    auto& f = files_[i];
    if (f.fd < 0)
      continue;
    if (f.ops > 0 && !f.close_sent) {
      // Some may never end by themselves (a read of a FIFO nobody writes
      // to), also on a file whose close waits for them: cancel them, each
      // completes (errc::cancelled) and the close follows the last.
      auto* e = sqe();
      io_uring_prep_cancel_fd(e, f.fd, IORING_ASYNC_CANCEL_ALL);
      io_uring_sqe_set_data64(e, detail::uring_ignore_token);
    }
    if (!f.closing) {
      f.closing = true;
      maybe_close_file(i);
    }
  }
  timers_.clear(); // in user space: nothing to tell the kernel
  // Let the cancellations and closes run.
  for (int i = 0; i < 1000 && (slots_.live() > 0 || files_.live() > 0); ++i)
    poll(std::chrono::milliseconds{10});
}

} // namespace actio
