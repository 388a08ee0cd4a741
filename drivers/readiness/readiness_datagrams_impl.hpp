#pragma once

/// `readiness_driver<Poller>`, part 3: datagram sockets (UDP, AF_UNIX
/// SOCK_DGRAM) — one recvmsg per credit, one sendmsg per queued datagram.
/// Included by readiness_driver_impl.hpp; include that instead.

#include <cerrno>

#include <sys/socket.h>
#include <sys/uio.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/readiness/readiness_core_impl.hpp"
#include "actio/drivers/readiness/socket_calls.hpp"

namespace actio {

template <readiness_poller Poller>
caf::expected<socket_id>
readiness_driver<Poller>::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                                         datagram_limits limits) {
  return detail::as_datagram(slots_, adopt(fd, std::move(owner), write_limits{}),
                             limits);
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::send_to(socket_id id, op_id op, byte_buffer buf,
                                       const sockaddr_storage& to,
                                       socklen_t len,
                                       caf::response_promise rp) {
  counters_.request(driver_request::send_to);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (s->dq.push(to_owner(*s), id, s->datagram,
                 detail::datagram_req{
                   detail::write_req{op, std::move(buf), std::move(rp)}, to,
                   len})
      && s->writable)
    do_dgram_write(static_cast<uint32_t>(id));
  return true;
}

template <readiness_poller Poller>
caf::error readiness_driver<Poller>::connect_datagram(
  socket_id id, const sockaddr_storage& to, socklen_t len) {
  return detail::connect_datagram(find(id), to, len);
}

/// One recvmsg per credit. The kernel reports a datagram longer than the
/// buffer with MSG_TRUNC in msg_flags (and drops the rest): it arrives
/// marked `truncated`, never silently cut.
template <readiness_poller Poller>
void readiness_driver<Poller>::do_dgram_read(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (scratch_.size() < s.dq.limits.max_size)
    scratch_.resize(s.dq.limits.max_size);
  for (int i = 0; i < detail::max_reads_per_turn; ++i) {
    if (!s.readable || s.credit == 0)
      return;
    sockaddr_storage from{};
    iovec iov{scratch_.data(), s.dq.limits.max_size};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    auto n = detail::no_eintr([&] { return ::recvmsg(s.fd, &msg, 0); });
    if (n >= 0) {
      --s.credit;
      counters_.datagram_read(static_cast<size_t>(n));
      datagram_received ev{id,
                           net::address{reinterpret_cast<sockaddr*>(&from),
                                        msg.msg_namelen},
                           byte_buffer(scratch_.begin(), scratch_.begin() + n),
                           (msg.msg_flags & MSG_TRUNC) != 0};
      deliver(s.owner, std::move(ev));
      continue;
    }
    auto err = errno;
    if (detail::would_block(err)) {
      s.readable = false;
      return;
    }
    // An asynchronous error (ICMP for an earlier send): reading consumed
    // it; the socket stays usable.
    deliver(s.owner,
            datagram_error{id, make_errno_error("recvmsg", err)});
  }
  if (s.readable && s.credit > 0)
    mark_ready(index);
}

/// One sendmsg per datagram, in order; EAGAIN waits for a write event. A
/// failed datagram (EMSGSIZE, ICMP error) fails only its own request.
template <readiness_poller Poller>
void readiness_driver<Poller>::do_dgram_write(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  auto out = to_owner(s);
  while (s.writable && !s.dq.empty()) {
    auto& op = s.dq.front();
    iovec iov{op.w.buf.data(), op.w.buf.size()};
    msghdr msg{};
    msg.msg_name = op.len > 0 ? &op.to : nullptr;
    msg.msg_namelen = op.len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    auto n = detail::no_eintr(
      [&] { return ::sendmsg(s.fd, &msg, detail::send_flags); });
    caf::error err;
    if (n < 0) {
      auto code = errno;
      if (detail::would_block(code) || code == ENOBUFS) {
        s.writable = false;
        want_writable(index, true);
        return;
      }
      err = make_errno_error("sendmsg", code);
    } else {
      op.w.done = static_cast<size_t>(n);
      counters_.datagram_written(static_cast<size_t>(n));
    }
    detail::complete(out, id, op.w, std::move(err));
    s.dq.pop_front();
  }
  if (s.dq.empty() && s.out_armed)
    want_writable(index, false);
}

} // namespace actio
