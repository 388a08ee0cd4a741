// io_uring backend, part 3: datagram sockets — one recvmsg per credit,
// one sendmsg in flight per socket.

#include "actio/drivers/uring/uring_driver.hpp"

#include <cerrno>

#include <sys/socket.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_internal.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

caf::expected<socket_id>
uring_driver::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                             datagram_limits limits) {
  return detail::as_datagram(slots_, adopt(fd, std::move(owner), write_limits{}),
                             limits);
}

caf::error uring_driver::connect_datagram(socket_id id,
                                          const sockaddr_storage& to,
                                          socklen_t len) {
  return detail::connect_datagram(find(id), to, len);
}

bool uring_driver::send_to(socket_id id, op_id op, byte_buffer buf,
                           const sockaddr_storage& to, socklen_t len,
                           caf::response_promise rp) {
  counters_.request(driver_request::send_to);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (s->dq.push(to_owner(*s), id, s->datagram,
                 detail::datagram_req{write_req{op, std::move(buf),
                                                std::move(rp)},
                                      to, len}))
    submit_dgram_send(static_cast<uint32_t>(id));
  return true;
}

/// Points the msghdr of `o` (a sendmsg or recvmsg op) at its one `iov` and
/// its address storage (`name_len` bytes of it; none if 0: a connected
/// socket's send) and submits it on `s`, counting it in `s.ops`.
void uring_driver::submit_msg(slot& s, op* o, socklen_t name_len) {
  o->ext().msg.msg_name = name_len > 0 ? &o->ext().addr : nullptr;
  o->ext().msg.msg_namelen = name_len;
  o->ext().msg.msg_iov = &o->ext().iov;
  o->ext().msg.msg_iovlen = 1;
  ++s.ops;
  auto* e = sqe();
  if (o->kind == op_kind::sendmsg)
    io_uring_prep_sendmsg(e, s.fd, &o->ext().msg, MSG_NOSIGNAL);
  else
    io_uring_prep_recvmsg(e, s.fd, &o->ext().msg, 0);
  io_uring_sqe_set_data(e, o);
}

/// The slot of a datagram op whose (last) CQE came: the slot no longer
/// has it in flight (`which`: its send_op or recv_op) nor counts it.
uint32_t uring_driver::reaped(op* o, op* slot::*which) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  s.*which = nullptr;
  --s.ops;
  return index;
}

/// One sendmsg in flight per socket keeps datagrams in order.
void uring_driver::submit_dgram_send(uint32_t index) {
  auto& s = slots_[index];
  if (s.send_op != nullptr || s.closing || s.dq.empty())
    return;
  auto* o = new_op(op_kind::sendmsg);
  o->target = id_of(index);
  auto& d = s.dq.front();
  o->w = std::move(d.w);
  o->ext().addr = d.to;
  o->ext().addr_len = d.len;
  s.dq.pop_front();
  o->ext().iov = iovec{o->w.buf.data(), o->w.buf.size()};
  s.send_op = o;
  submit_msg(s, o, o->ext().addr_len);
}

void uring_driver::on_dgram_send(op* o, int res) {
  auto index = reaped(o, &slot::send_op);
  auto& s = slots_[index];
  auto id = id_of(index);
  auto out = to_owner(s);
  if (res >= 0) {
    o->w.done = static_cast<size_t>(res);
    counters_.datagram_written(static_cast<size_t>(res));
  }
  if (s.closing) {
    // The kernel may have sent it before the cancel reached it: say so.
    if (res >= 0)
      detail::complete(out, id, o->w, caf::error{});
    else
      detail::complete(out, id, o->w,
                       detail::cancelled("send cancelled by close"));
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS) {
    // Retry the same datagram first: order is kept.
    s.dq.retry_front(detail::datagram_req{std::move(o->w), o->ext().addr, o->ext().addr_len});
    op_done(o);
    submit_dgram_send(index);
    return;
  }
  // A failed datagram (EMSGSIZE, an ICMP error) fails only its request.
  if (res < 0)
    detail::complete(out, id, o->w, make_errno_error("sendmsg", -res));
  else
    detail::complete(out, id, o->w, caf::error{});
  op_done(o);
  submit_dgram_send(index);
}

/// Single-shot recvmsg, armed only while there is credit: the datagram goes
/// into the op's own buffer of the receive size; the kernel writes the
/// source address and msg_flags (MSG_TRUNC) back into the op's msghdr.
void uring_driver::arm_dgram_recv(uint32_t index) {
  auto& s = slots_[index];
  if (s.credit == 0 || s.recv_op != nullptr || s.closing)
    return;
  auto* o = new_op(op_kind::recvmsg);
  o->target = id_of(index);
  o->buf.resize(s.dq.limits.max_size);
  o->ext().iov = iovec{o->buf.data(), o->buf.size()};
  s.recv_op = o;
  submit_msg(s, o, sizeof(o->ext().addr));
}

void uring_driver::on_dgram_recv(op* o, int res) {
  auto index = reaped(o, &slot::recv_op);
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.closing) {
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res >= 0) {
    --s.credit;
    counters_.datagram_read(static_cast<size_t>(res));
    // Copy out at the datagram's size: the op's buffer has the receive size.
    datagram_received ev{id,
                         net::address{reinterpret_cast<sockaddr*>(&o->ext().addr),
                                      o->ext().msg.msg_namelen},
                         byte_buffer(o->buf.begin(), o->buf.begin() + res),
                         (o->ext().msg.msg_flags & MSG_TRUNC) != 0};
    deliver(s.owner, std::move(ev));
  } else if (res != -EINTR && res != -EAGAIN && res != -ECANCELED) {
    // An asynchronous error (ICMP for an earlier send); the socket stays.
    deliver(s.owner,
            datagram_error{id, make_errno_error("recvmsg", -res)});
  }
  op_done(o);
  arm_dgram_recv(index);
}

} // namespace actio
