// io_uring backend, part 2: listeners and stream sockets — multishot
// accept with back-off, connect, credit and the multishot recv, the write
// queue (one send in flight) and shutdown.

#include "actio/drivers/uring/uring_driver.hpp"

#include <algorithm>
#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_internal.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

/// The most a stash buffer reserves when a bulk stream fills provided
/// buffers (it grows further by doubling if the batch holds more).
constexpr size_t bulk_reserve = 64 * 1024;

/// Bytes a socket's multishot brings in full provided buffers in a row
/// that switch it to bulk mode (uring_bulk_recv.cpp), and the size of its
/// first owned recv.
constexpr size_t bulk_enter = 16 * 1024;

} // namespace

void uring_driver::start_accept(socket_id id) {
  counters_.request(driver_request::accept);
  if (auto* s = find(id)) {
    s->listener = true;
    arm_accept(static_cast<uint32_t>(id));
  }
}

void uring_driver::arm_accept(uint32_t index) {
  auto& s = slots_[index];
  if (s.accept_op != nullptr || s.accept.waiting || s.closing)
    return;
  auto* o = new_op(op_kind::accept);
  o->target = id_of(index);
  s.accept_op = o;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_multishot_accept(e, s.fd, nullptr, nullptr,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data(e, o);
}

bool uring_driver::connect(socket_id id, const sockaddr_storage& addr,
                           socklen_t len, op_id op_ident) {
  counters_.request(driver_request::connect);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  s->connecting = true;
  auto* o = new_op(op_kind::connect);
  o->target = id;
  o->id = op_ident;
  o->ext().addr = addr;
  o->ext().addr_len = len;
  ++s->ops;
  auto* e = sqe();
  io_uring_prep_connect(e, s->fd, reinterpret_cast<sockaddr*>(&o->ext().addr),
                        o->ext().addr_len);
  io_uring_sqe_set_data(e, o);
  return true;
}

void uring_driver::on_connect(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  --s.ops;
  s.connecting = false;
  caf::error err;
  if (s.closing)
    err = detail::cancelled("connect cancelled by close");
  else if (res < 0)
    err = make_errno_error("connect", -res);
  deliver(s.owner, connected{id, o->id, err});
  op_done(o);
  if (s.closing) {
    maybe_finish_close(index);
    return;
  }
  if (!err) { // what waited for the connection may go now
    submit_send(index);
    arm_recv(index);
  }
}

void uring_driver::grant(socket_id id, size_t bytes) {
  counters_.request(driver_request::read);
  auto* s = find(id);
  if (s == nullptr)
    return;
  s->credit += bytes;
  auto index = static_cast<uint32_t>(id);
  if (s->datagram) {
    arm_dgram_recv(index);
    return;
  }
  flush_stash(index);
  if (s->bulk) {
    // Armed at the end of the turn (process), with the credit of every
    // grant made meanwhile: arming at the first small grant made small
    // reads, small writes at the next hop and small grants again.
    if (s->recv_op == nullptr)
      ready_.push_back(index);
    return;
  }
  arm_recv(index);
}

void uring_driver::arm_recv(uint32_t index) {
  auto& s = slots_[index];
  if (s.datagram || s.connecting || s.credit == 0 || s.recv_op != nullptr || s.read_done || s.closing
      || !s.stash.empty())
    return;
  if (s.bulk) { // uring_bulk_recv.cpp
    arm_owned_recv(index);
    return;
  }
  if (!bufs_.ready()) {
    // The first stream recv of this driver maps the provided buffers
    // (uring_buffers.hpp); if that fails (ENOMEM), this socket fails.
    if (auto err = bufs_.init(ring_, detail::uring_buf_group)) {
      fail(index, std::move(err));
      return;
    }
  }
  auto* o = new_op(op_kind::recv);
  o->target = id_of(index);
  s.recv_op = o;
  s.recv_cancel_sent = false;
  s.starved = false;
  ++s.ops;
  auto* e = sqe();
  if (s.probed) {
    io_uring_prep_recv_multishot(e, s.fd, nullptr, 0, 0);
  } else {
    // A socket's first recv (and the first after bulk mode) takes one
    // provided buffer only: a multishot armed on a socket that has
    // megabytes queued copies them all out before its cancel lands. A
    // full buffer goes to bulk mode, a short one to the multishot.
    io_uring_prep_recv(e, s.fd, nullptr, uring_buffers::size, 0);
  }
  e->flags |= IOSQE_BUFFER_SELECT;
  e->buf_group = detail::uring_buf_group;
  io_uring_sqe_set_data(e, o);
}

/// Delivers stashed bytes (read beyond credit) as far as credit allows,
/// then a pending end of stream. A front larger than the credit is
/// delivered in parts from an offset: each byte is copied at most once
/// here (the front is never shifted down, which made slow grants of a big
/// stash quadratic).
void uring_driver::flush_stash(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.stash.empty() && s.credit > 0) {
    auto& front = s.stash.front();
    auto first = front.begin() + static_cast<std::ptrdiff_t>(s.stash_off);
    auto avail = front.size() - s.stash_off;
    if (avail <= s.credit) {
      s.credit -= avail;
      s.stash_bytes -= avail;
      byte_buffer out;
      if (s.stash_off == 0)
        out = std::move(front);
      else
        out.assign(first, front.end());
      s.stash_off = 0;
      s.stash.pop_front();
      deliver(s.owner, received{id, std::move(out)});
    } else {
      byte_buffer part(first, first + static_cast<std::ptrdiff_t>(s.credit));
      s.stash_off += s.credit;
      s.stash_bytes -= s.credit;
      s.credit = 0;
      deliver(s.owner, received{id, std::move(part)});
    }
  }
  if (s.stash.empty() && s.read_done && !s.read_reported && s.recv_op == nullptr) {
    s.read_reported = true;
    deliver(s.owner, read_closed{id, s.read_error});
  }
}

bool uring_driver::send(socket_id id, op_id op, byte_buffer buf,
                        caf::response_promise rp) {
  counters_.request(driver_request::write);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (s->wq.push(to_owner(*s), id,
                 detail::write_req{op, std::move(buf), std::move(rp)})
      && s->send_op == nullptr)
    submit_send(static_cast<uint32_t>(id));
  return true;
}

void uring_driver::submit_shutdown(uint32_t index, detail::shutdown_req r) {
  auto& s = slots_[index];
  auto* o = new_op(op_kind::shutdown);
  o->target = id_of(index);
  o->w = write_req{r.id, {}, std::move(r.rp)};
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_shutdown(e, s.fd, SHUT_WR);
  io_uring_sqe_set_data(e, o);
}

bool uring_driver::shutdown_write(socket_id id, op_id op,
                                  caf::response_promise rp) {
  counters_.request(driver_request::shutdown);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (!s->wq.push_shutdown(to_owner(*s), id,
                           detail::shutdown_req{op, std::move(rp)}))
    return true;
  if (s->send_op == nullptr && !s->connecting)
    if (auto r = s->wq.take_shutdown())
      submit_shutdown(static_cast<uint32_t>(id), std::move(*r));
  return true;
}

std::optional<socket_progress> uring_driver::progress(socket_id id) {
  auto* s = find(id);
  if (s == nullptr || s->closing)
    return std::nullopt;
  return socket_progress{s->bytes_read, s->bytes_written, s->credit,
                         s->wq.queued(), !s->read_done};
}

void uring_driver::on_accept(op* o, int res, unsigned flags) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    s.accept_op = nullptr;
    --s.ops;
    op_done(o);
  }
  if (s.closing) {
    if (res >= 0)
      ::close(res);
    maybe_finish_close(index);
    return;
  }
  auto id = id_of(index);
  if (res >= 0) {
    backoff_.accepted(s.accept, to_owner(s), id);
    counters_.completed(driver_completion::accept);
    deliver(s.owner, accepted{id, owned_fd{res}});
  } else if (res == -EINTR || res == -ECONNABORTED || res == -EAGAIN
             || res == -ECANCELED) {
    // transient: re-armed below
  } else {
    // EMFILE and friends: back off (drivers/detail/accept_backoff.hpp).
    if (auto delay = backoff_.failed(s.accept, to_owner(s), id, -res)) {
      counters_.accept_pauses.add();
      start_backoff_timer(id, *delay);
    }
    return;
  }
  if (!more)
    arm_accept(index);
}

void uring_driver::on_recv(op* o, int res, unsigned flags) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    s.recv_op = nullptr;
    --s.ops;
    op_done(o);
  }
  if (res > 0) {
    // 1. the kernel filled provided buffer `bid`; 2. copy out (appended to
    // what this socket received earlier in the batch); 3. give the buffer
    // back at once, so the pool never waits on a slow consumer. Delivery
    // waits for the end of the batch (flush_received).
    auto bid = flags >> IORING_CQE_BUFFER_SHIFT;
    auto* data = bufs_.data(bid);
    if (s.closing) {
      bufs_.recycle(bid);
      maybe_finish_close(index);
      return;
    }
    auto n = static_cast<size_t>(res);
    if (!s.flush_queued || s.stash.empty()
        || s.stash.back().size() + n > std::max(s.stash.back().capacity(), bulk_reserve)) {
      // A full provided buffer means more is likely queued: room for it
      // up front instead of growing 2 KiB at a time. A batch merges into
      // buffers of at most bulk_reserve bytes: a flood (the kernel can
      // fill megabytes before the cancel lands) never makes a buffer so
      // large that malloc maps fresh pages for it.
      auto& fresh = s.stash.emplace_back();
      if (n == uring_buffers::size && s.credit > s.stash_bytes + n)
        fresh.reserve(std::min(s.credit - s.stash_bytes, bulk_reserve));
    }
    auto& back = s.stash.back();
    back.insert(back.end(), data, data + n);
    s.stash_bytes += n;
    bufs_.recycle(bid);
    s.bytes_read += static_cast<uint64_t>(res);
    counters_.read(static_cast<size_t>(res));
    if (!s.flush_queued) {
      s.flush_queued = true;
      to_flush_.push_back(index);
    }
    // Credit used up: stop the multishot recv before it takes more buffers.
    // A bulk stream (bulk_enter bytes in full buffers in a row): stop the
    // multishot too, the next recv reads into a buffer of its own
    // (uring_bulk_recv.cpp).
    s.full_run = n == uring_buffers::size ? s.full_run + 1 : 0;
    bool probe_full = !s.probed && n == uring_buffers::size;
    s.probed = true;
    if ((probe_full || s.full_run * uring_buffers::size >= bulk_enter)
        && !s.bulk) {
      s.bulk = true;
      s.bulk_want = static_cast<uint32_t>(bulk_enter);
      s.small_reads = 0;
    }
    if ((s.stash_bytes >= s.credit || s.bulk) && s.recv_op != nullptr
        && !s.recv_cancel_sent) {
      s.recv_cancel_sent = true;
      auto* e = sqe();
      io_uring_prep_cancel(e, s.recv_op, 0);
      io_uring_sqe_set_data64(e, detail::uring_ignore_token);
    }
    return; // a finished multishot is re-armed after the flush
  }
  if (s.closing) {
    maybe_finish_close(index);
    return;
  }
  if (res == 0) {
    s.read_done = true;
    flush_stash(index);
    return;
  }
  if (res == -ENOBUFS) {
    // Pool empty: the multishot ended. Re-arm on the next turn, after this
    // batch of completions has returned buffers.
    s.starved = true;
    ready_.push_back(index);
    return;
  }
  if (res == -ECANCELED || res == -EINTR || res == -EAGAIN) {
    if (!more)
      arm_recv(index);
    return;
  }
  fail(index, make_errno_error("recv", -res));
}

void uring_driver::on_shutdown(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  --s.ops;
  caf::error err;
  if (s.closing)
    err = detail::close_error(s.close_reason, "shutdown cancelled by close");
  else if (res < 0)
    err = make_errno_error("shutdown", -res);
  detail::complete_shutdown(to_owner(s), id, o->w.id, o->w.rp,
                            std::move(err));
  op_done(o);
  if (s.closing)
    maybe_finish_close(index);
}

} // namespace actio
