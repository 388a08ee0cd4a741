#pragma once

/// `readiness_driver<Poller>`, part 2: stream sockets and listeners —
/// accept with back-off, connect, credit and reads, the write queue and
/// shutdown. Included by readiness_driver_impl.hpp; include that instead.

#include <algorithm>
#include <cerrno>

#include <sys/socket.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/readiness/readiness_core_impl.hpp"
#include "actio/drivers/readiness/socket_calls.hpp"

namespace actio {

// -- requests -----------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::start_accept(socket_id id) {
  counters_.request(driver_request::accept);
  if (auto* s = find(id)) {
    s->listener = true;
    s->accepting = true;
    // A connection may have arrived before we asked: an edge-triggered
    // poller would not report it again, so try once right away.
    s->readable = true;
    mark_ready(static_cast<uint32_t>(id));
  }
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::connect(socket_id id,
                                       const sockaddr_storage& addr,
                                       socklen_t len, op_id op) {
  counters_.request(driver_request::connect);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  auto index = static_cast<uint32_t>(id);
  s->writable = false;
  s->write_eof = false;
  s->eof_errno = 0;
  s->connecting = op;
  int rc = detail::no_eintr([&] {
    return ::connect(s->fd, reinterpret_cast<const sockaddr*>(&addr), len);
  });
  if (rc == 0 || errno == EINPROGRESS) {
    // Done when the socket becomes writable (or fails): write interest.
    want_writable(index, true);
    if (rc == 0) { // connected at once (loopback can do that)
      s->writable = true;
      mark_ready(index);
    }
    return true;
  }
  s->connecting.reset();
  auto err = make_errno_error("connect", errno);
  deliver(s->owner, connected{id, op, err});
  return true;
}

template <readiness_poller Poller>
void readiness_driver<Poller>::grant(socket_id id, size_t bytes) {
  counters_.request(driver_request::read);
  if (auto* s = find(id)) {
    s->credit += bytes;
    if (s->readable && !s->read_done)
      mark_ready(static_cast<uint32_t>(id));
  }
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::send(socket_id id, op_id op, byte_buffer buf,
                                    caf::response_promise rp) {
  counters_.request(driver_request::write);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (!s->wq.push(to_owner(*s), id,
                  detail::write_req{op, std::move(buf), std::move(rp)}))
    return true;
  // Write right away when the socket can take it: saves a loop turn on the
  // request/response hot path. Completions are messages, so no re-entrancy.
  if (s->writable)
    do_write(static_cast<uint32_t>(id));
  return true;
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::shutdown_write(socket_id id, op_id op,
                                              caf::response_promise rp) {
  counters_.request(driver_request::shutdown);
  auto* s = find(id);
  if (s == nullptr)
    return false;
  if (s->wq.push_shutdown(to_owner(*s), id,
                          detail::shutdown_req{op, std::move(rp)}))
    do_write(static_cast<uint32_t>(id));
  return true;
}

// -- I/O ----------------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::finish_connect(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  // libkqueue reads SO_ERROR itself (clearing it) to fill in the EV_EOF
  // event's fflags: take the error from there.
  if (err == 0)
    err = s.eof_errno;
  if (err == 0) {
    // Writable without an error should mean connected; make sure, since an
    // emulation may report readiness early.
    sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &plen) < 0) {
      if (errno != ENOTCONN) {
        err = errno;
      } else if (!s.write_eof) {
        s.writable = false; // not yet: wait for the next write event
        return;
      } else {
        err = ENOTCONN; // failed, and the reason is gone
      }
    }
  }
  auto op = *s.connecting;
  s.connecting.reset();
  if (err != 0) {
    s.writable = false;
    deliver(s.owner,
            connected{id, op, make_errno_error("connect", err)});
    return;
  }
  s.writable = true;
  s.write_eof = false;
  if (s.wq.empty() && !s.wq.shutdown_pending())
    want_writable(index, false);
  deliver(s.owner, connected{id, op, caf::error{}});
}

template <readiness_poller Poller>
void readiness_driver<Poller>::do_accept(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (!s.accepting || s.accept.waiting || !s.readable)
    return;
  for (int i = 0; i < detail::max_accepts_per_turn; ++i) {
    int fd = detail::accept_nonblocking(s.fd);
    if (fd >= 0) {
      backoff_.accepted(s.accept, to_owner(s), id);
      counters_.completed(driver_completion::accept);
      deliver(s.owner, accepted{id, owned_fd{fd}});
      continue;
    }
    auto err = errno;
    if (err == EINTR || err == ECONNABORTED || err == EPROTO)
      continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      s.readable = false;
      return;
    }
    // Out of descriptors or memory, or anything unexpected: back off
    // (drivers/detail/accept_backoff.hpp).
    if (auto delay = backoff_.failed(s.accept, to_owner(s), id, err)) {
      counters_.accept_pauses.add();
      add_timer(*delay, detail::timer_entry{nullptr, id});
    }
    return;
  }
  mark_ready(index); // more may be waiting: continue next turn
}

template <readiness_poller Poller>
void readiness_driver<Poller>::do_read(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.connecting)
    return;
  for (int i = 0; i < detail::max_reads_per_turn; ++i) {
    if (!s.readable || s.credit == 0 || s.read_done)
      return;
    auto want = std::min(s.credit, scratch_.size());
    auto n = detail::no_eintr(
      [&] { return ::recv(s.fd, scratch_.data(), want, 0); });
    if (n > 0) {
      s.credit -= static_cast<size_t>(n);
      s.bytes_read += static_cast<uint64_t>(n);
      counters_.read(static_cast<size_t>(n));
      // Edge-triggered: a short read means the buffer was empty a moment ago,
      // and new data raises a new edge. Skip the EAGAIN round trip, unless the
      // peer hung up (then read on to see EOF).
      if (static_cast<size_t>(n) < want && !s.hup)
        s.readable = false;
      deliver(s.owner,
              received{
                id, byte_buffer(scratch_.begin(), scratch_.begin() + n)});
      continue;
    }
    if (n == 0) {
      if (s.eof_errno != 0) {
        // Reset, not an orderly EOF: the poller consumed the socket error
        // (and with it recv's ECONNRESET) for its event.
        fail(index, make_errno_error("recv", s.eof_errno));
        return;
      }
      s.read_done = true;
      deliver(s.owner, read_closed{id, caf::error{}});
      return;
    }
    if (auto err = errno; !detail::would_block(err)) {
      fail(index, make_errno_error("recv", err));
      return;
    }
    s.readable = false;
    return;
  }
  if (s.readable && s.credit > 0 && !s.read_done)
    mark_ready(index);
}

/// Sends from the head of the write queue until it is empty or the socket
/// is full; then the shutdown, if one waits for that.
template <readiness_poller Poller>
void readiness_driver<Poller>::do_write(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.connecting)
    return;
  auto out = to_owner(s);
  while (s.writable && !s.wq.empty()) {
    auto& op = s.wq.front();
    auto left = op.buf.size() - op.done;
    if (left > 0) {
      auto n = detail::no_eintr([&] {
        return ::send(s.fd, op.buf.data() + op.done, left, detail::send_flags);
      });
      if (n < 0) {
        auto err = errno;
        if (detail::would_block(err)) {
          s.writable = false;
          want_writable(index, true);
          break;
        }
        fail(index, make_errno_error("send", err));
        return;
      }
      op.done += static_cast<size_t>(n);
      s.wq.sent(static_cast<size_t>(n));
      s.bytes_written += static_cast<uint64_t>(n);
      counters_.written(static_cast<size_t>(n));
      if (static_cast<size_t>(n) < left) {
        s.writable = false; // short write: wait for the next write event
        want_writable(index, true);
        break;
      }
    }
    detail::complete(out, id, op, caf::error{});
    s.wq.pop_front();
  }
  if (s.wq.empty() && s.out_armed)
    want_writable(index, false);
  s.wq.maybe_resume(out, id);
  if (auto op = s.wq.take_shutdown()) {
    if (::shutdown(s.fd, SHUT_WR) < 0)
      detail::complete_shutdown(out, id, op->id, op->rp,
                                make_errno_error("shutdown", errno));
    else
      detail::complete_shutdown(out, id, op->id, op->rp, caf::error{});
  }
}

} // namespace actio
