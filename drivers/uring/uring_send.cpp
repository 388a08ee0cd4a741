// io_uring backend, part 2c: the write side of stream sockets. One send in
// flight per socket keeps the byte stream in order; while it is in the
// kernel, writes queue up behind it. The next send gathers the small ones
// at the head of the queue into one sendmsg (up to `gather_iovs` buffers,
// `gather_bytes` bytes): a stream that arrives in small pieces (a relay
// forwarding what each recv brought) leaves in large ones, and each recv
// at the next hop gets a large piece too. A write completes (in order) as
// soon as its last byte is with the kernel.

#include "actio/drivers/uring/uring_driver.hpp"

#include <algorithm>
#include <cerrno>

#include <sys/socket.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

/// Most buffers and bytes one gathered send takes from the queue; a write
/// at least `gather_bytes` large goes alone.
constexpr size_t gather_iovs = 64;
constexpr size_t gather_bytes = 256 * 1024;

/// Puts `w` back at the head of `wq` with only its unsent bytes, to be
/// retried (EINTR, EAGAIN).
void requeue(detail::write_queue& wq, detail::write_req& w) {
  w.buf.erase(w.buf.begin(), w.buf.begin() + static_cast<ptrdiff_t>(w.done));
  w.done = 0;
  wq.retry_front(std::move(w));
}

} // namespace

/// With the queue drained: `write_resumed` if due, then a waiting shutdown.
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
  auto total = o->w.buf.size();
  if (s.wq.empty() || total >= gather_bytes
      || total + s.wq.front().buf.size() > gather_bytes) {
    auto* e = sqe();
    io_uring_prep_send(e, s.fd, o->w.buf.data(), total, MSG_NOSIGNAL);
    io_uring_sqe_set_data(e, o);
    return;
  }
  // Gather: the op's `gather` holds the writes in order, `done` counts
  // those completed.
  auto& g = o->ext().gather;
  g.push_back(std::move(o->w));
  o->w = write_req{};
  while (!s.wq.empty() && g.size() < gather_iovs
         && total + s.wq.front().buf.size() <= gather_bytes) {
    total += s.wq.front().buf.size();
    g.push_back(std::move(s.wq.front()));
    s.wq.pop_front();
  }
  submit_gather(o, s.fd);
}

/// (Re)submits the unsent rest of a gathered send as one sendmsg.
void uring_driver::submit_gather(op* o, int fd) {
  auto& x = o->ext();
  x.iovs.clear();
  for (auto i = o->done; i < x.gather.size(); ++i) {
    auto& w = x.gather[i];
    if (w.done < w.buf.size())
      x.iovs.push_back(iovec{w.buf.data() + w.done, w.buf.size() - w.done});
  }
  x.msg = msghdr{};
  x.msg.msg_iov = x.iovs.data();
  x.msg.msg_iovlen = x.iovs.size();
  auto* e = sqe();
  io_uring_prep_sendmsg(e, fd, &x.msg, MSG_NOSIGNAL);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::on_send(op* o, int res) {
  if (o->x && !o->x->gather.empty()) {
    on_gathered_send(o, res);
    return;
  }
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
    requeue(s.wq, o->w); // retry the rest of the same request
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
    s.wq.fail_all(out, id, s.close_reason); // after it: in order
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

void uring_driver::on_gathered_send(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  auto out = to_owner(s);
  auto& g = o->x->gather;
  if (res > 0) {
    auto n = static_cast<size_t>(res);
    s.wq.sent(n);
    s.bytes_written += n;
    counters_.written(n);
    // The bytes went out in order: complete each write they finished.
    while (o->done < g.size()) {
      auto& w = g[o->done];
      auto left = w.buf.size() - w.done;
      if (n < left) {
        w.done += n;
        break;
      }
      w.done += left;
      n -= left;
      if (!s.closing)
        detail::complete(out, id, w, caf::error{});
      else // sent, but the close wins: as the single send does
        detail::complete(out, id, w,
                         detail::close_error(s.close_reason,
                                             "write cancelled by close"));
      ++o->done;
    }
    if (o->done < g.size() && !s.closing) { // short send: the rest again
      submit_gather(o, s.fd);
      return;
    }
  }
  s.send_op = nullptr;
  --s.ops;
  if (res == -EINTR || res == -EAGAIN) {
    for (auto i = g.size(); i-- > o->done;) // the rest again, in order
      requeue(s.wq, g[i]);
    op_done(o);
    submit_send(index);
    return;
  }
  caf::error err;
  if (s.closing)
    err = detail::close_error(s.close_reason, "write cancelled by close");
  else if (res < 0)
    err = make_errno_error("sendmsg", -res);
  for (auto i = o->done; i < g.size(); ++i)
    detail::complete(out, id, g[i], err); // none left after a full send
  op_done(o);
  if (s.closing) {
    s.wq.fail_all(out, id, s.close_reason); // after those: in order
    maybe_finish_close(index);
  }
  else if (err)
    fail(index, std::move(err));
  else
    submit_send(index);
}

} // namespace actio
