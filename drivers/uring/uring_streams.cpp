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
  arm_recv(index);
}

void uring_driver::arm_recv(uint32_t index) {
  auto& s = slots_[index];
  if (s.datagram || s.connecting || s.credit == 0 || s.recv_op != nullptr || s.read_done || s.closing
      || !s.stash.empty())
    return;
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
  io_uring_prep_recv_multishot(e, s.fd, nullptr, 0, 0);
  e->flags |= IOSQE_BUFFER_SELECT;
  e->buf_group = detail::uring_buf_group;
  io_uring_sqe_set_data(e, o);
}

/// Delivers stashed bytes (read beyond credit) as far as credit allows,
/// then a pending end of stream.
void uring_driver::flush_stash(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.stash.empty() && s.credit > 0) {
    auto& front = s.stash.front();
    if (front.size() <= s.credit) {
      s.credit -= front.size();
      deliver(s.owner, received{id, std::move(front)});
      s.stash.pop_front();
    } else {
      byte_buffer part(front.begin(), front.begin() + s.credit);
      front.erase(front.begin(), front.begin() + s.credit);
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

/// One send in flight per socket keeps the byte stream in order. With the
/// queue drained: `write_resumed` if due, then a waiting shutdown.
void uring_driver::submit_send(uint32_t index) {
  auto& s = slots_[index];
  if (s.send_op != nullptr || s.closing || s.connecting)
    return;
  if (s.wq.empty()) {
    s.wq.maybe_resume(to_owner(s), id_of(index));
    if (auto r = s.wq.take_shutdown())
      submit_shutdown(index, std::move(*r));
    return;
  }
  auto* o = new_op(op_kind::send);
  o->target = id_of(index);
  o->w = std::move(s.wq.front());
  s.wq.pop_front();
  s.send_op = o;
  ++s.ops;
  if (o->w.buf.empty()) { // nothing to send: complete without the kernel
    s.send_op = nullptr;
    --s.ops;
    detail::complete(to_owner(s), o->target, o->w, caf::error{});
    op_done(o);
    submit_send(index);
    return;
  }
  auto* e = sqe();
  io_uring_prep_send(e, s.fd, o->w.buf.data(), o->w.buf.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data(e, o);
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
    if (s.flush_queued && !s.stash.empty())
      s.stash.back().insert(s.stash.back().end(), data, data + res);
    else
      s.stash.emplace_back(data, data + res);
    bufs_.recycle(bid);
    s.bytes_read += static_cast<uint64_t>(res);
    counters_.read(static_cast<size_t>(res));
    if (!s.flush_queued) {
      s.flush_queued = true;
      to_flush_.push_back(index);
    }
    // Credit used up: stop the multishot recv before it takes more buffers.
    size_t stashed = 0;
    for (size_t i = 0; i < s.stash.size(); ++i)
      stashed += s.stash[i].size();
    if (stashed >= s.credit && s.recv_op != nullptr && !s.recv_cancel_sent) {
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

void uring_driver::on_send(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  if (res > 0 && !s.closing) {
    o->w.done += static_cast<size_t>(res);
    s.wq.sent(static_cast<size_t>(res));
    s.bytes_written += static_cast<uint64_t>(res);
    counters_.written(static_cast<size_t>(res));
    if (o->w.done < o->w.buf.size()) { // short send: the rest goes again
      auto* e = sqe();
      io_uring_prep_send(e, s.fd, o->w.buf.data() + o->w.done,
                         o->w.buf.size() - o->w.done, MSG_NOSIGNAL);
      io_uring_sqe_set_data(e, o);
      return;
    }
  }
  s.send_op = nullptr;
  --s.ops;
  if (res == -EINTR || res == -EAGAIN) {
    // Retry the rest of the same request: back at the head of the queue.
    auto& w = o->w;
    w.buf.erase(w.buf.begin(), w.buf.begin() + static_cast<ptrdiff_t>(w.done));
    w.done = 0;
    s.wq.retry_front(std::move(w));
    op_done(o);
    submit_send(index);
    return;
  }
  auto out = to_owner(s);
  if (s.closing) {
    o->w.done += static_cast<size_t>(std::max(res, 0));
    detail::complete(out, id, o->w,
                     detail::close_error(s.close_reason,
                                         "write cancelled by close"));
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res < 0) {
    auto err = make_errno_error("send", -res);
    detail::complete(out, id, o->w, err);
    op_done(o);
    fail(index, std::move(err));
    return;
  }
  detail::complete(out, id, o->w, caf::error{});
  op_done(o);
  submit_send(index);
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
