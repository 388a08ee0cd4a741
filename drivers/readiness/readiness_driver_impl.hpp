#pragma once

/// Definitions of `readiness_driver<Poller>` (readiness_driver.hpp). Only a
/// backend's .cpp includes this, to instantiate the core for its poller:
///
///     template class actio::readiness_driver<actio::epoll_poller>;

#include <algorithm>
#include <cerrno>
#include <string>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include "actio/actors/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/file_pool.hpp"
#include "actio/drivers/readiness/readiness_driver.hpp"
#include "actio/drivers/readiness/socket_calls.hpp"

namespace actio {

namespace detail {

// Bounded work per socket and wake-up, so one busy peer cannot starve the
// others; leftover work goes on the ready list.
inline constexpr int max_reads_per_turn = 16;
inline constexpr int max_accepts_per_turn = 64;
inline constexpr size_t read_chunk = 64 * 1024;

inline constexpr auto min_backoff = std::chrono::milliseconds{5};
inline constexpr auto max_backoff = std::chrono::milliseconds{500};

inline caf::error cancelled(const char* what) {
  return make_actio_error(errc::cancelled, what);
}

} // namespace detail

// -- construction -------------------------------------------------------------

template <readiness_poller Poller>
caf::expected<std::unique_ptr<driver>>
readiness_driver<Poller>::make(file_engine_factory files,
                               std::string_view name) {
  std::unique_ptr<readiness_driver> drv{new readiness_driver};
  if (auto err = drv->open())
    return err;
  drv->name_ = name;
  auto* self = drv.get();
  auto wake = [self] { self->wake(); };
  if (files) {
    auto engine = files(std::move(wake));
    if (!engine)
      return std::move(engine.error());
    drv->files_ = std::move(*engine);
  } else {
    drv->files_ = std::make_unique<file_pool>(std::move(wake));
  }
  if (auto fd = drv->files_->notify_fd(); fd >= 0)
    if (auto err = drv->watch(fd, [self] { self->files_->notified(); }))
      return err;
  return std::unique_ptr<driver>{std::move(drv)};
}

template <readiness_poller Poller>
readiness_driver<Poller>::readiness_driver() : scratch_(detail::read_chunk) {
}

template <readiness_poller Poller>
caf::error readiness_driver<Poller>::open() {
  return poller_.open();
}

template <readiness_poller Poller>
readiness_driver<Poller>::~readiness_driver() {
  close_all(); // completes what is left (files first), on this thread
  unwatch();
  files_.reset(); // after unwatch: it may own the watched descriptor
  // poller_ closes its kernel objects last
}

template <readiness_poller Poller>
caf::error readiness_driver<Poller>::watch(int fd,
                                           std::function<void()> on_ready) {
  if (auto err = poller_.watch(fd))
    return err;
  watch_fd_ = fd;
  watch_ = std::move(on_ready);
  return caf::none;
}

template <readiness_poller Poller>
void readiness_driver<Poller>::unwatch() {
  if (watch_fd_ >= 0) {
    poller_.unwatch(watch_fd_);
    watch_fd_ = -1;
    watch_ = nullptr;
  }
}

// -- any thread ---------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::wake() noexcept {
  poller_.wake();
}

// -- slots --------------------------------------------------------------------

template <readiness_poller Poller>
socket_id readiness_driver<Poller>::id_of(uint32_t index) const noexcept {
  return slots_.id_of(index);
}

template <readiness_poller Poller>
auto readiness_driver<Poller>::find(socket_id id) noexcept -> slot* {
  return slots_.find(id);
}

template <readiness_poller Poller>
size_t readiness_driver<Poller>::sockets() const noexcept {
  return slots_.live();
}

template <readiness_poller Poller>
caf::expected<socket_id>
readiness_driver<Poller>::adopt(int fd, caf::strong_actor_ptr owner,
                                write_limits limits) {
  auto index = slots_.allocate();
  auto& s = slots_[index];
  detail::no_sigpipe(fd);
  // Read interest only: write interest is armed only while a write is
  // blocked. With it always on, every ACK that frees send-buffer space
  // raises an event, roughly doubling the events per request on a
  // request/response workload. A new socket is writable until a send says
  // otherwise.
  if (auto err = poller_.add(fd, id_of(index))) {
    ::close(fd);
    slots_.undo(index);
    return err;
  }
  s.fd = fd;
  s.owner = std::move(owner);
  s.limits = limits;
  s.writable = true;
  return id_of(index);
}

template <readiness_poller Poller>
caf::expected<socket_id>
readiness_driver<Poller>::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                                         datagram_limits limits) {
  auto id = adopt(fd, std::move(owner), write_limits{});
  if (id) {
    auto& s = slots_[static_cast<uint32_t>(*id)];
    s.datagram = true;
    s.dlimits = limits;
  }
  return id;
}

template <readiness_poller Poller>
void readiness_driver<Poller>::mark_ready(uint32_t index) {
  auto& s = slots_[index];
  if (!s.queued_ready) {
    s.queued_ready = true;
    ready_.push_back(index);
  }
}

// -- requests -----------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::start_accept(socket_id id) {
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
  auto* s = find(id);
  if (s == nullptr)
    return false;
  auto index = static_cast<uint32_t>(id);
  s->writable = false;
  s->write_eof = false;
  s->eof_errno = 0;
  s->connecting = op;
  int rc;
  do {
    rc = ::connect(s->fd, reinterpret_cast<const sockaddr*>(&addr), len);
  } while (rc < 0 && errno == EINTR);
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
  deliver(s->owner, caf::make_message(connected{id, op, err}));
  return true;
}

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
    deliver(s.owner, caf::make_message(
                       connected{id, op, make_errno_error("connect", err)}));
    return;
  }
  s.writable = true;
  s.write_eof = false;
  if (s.wq.empty() && !s.shut)
    want_writable(index, false);
  deliver(s.owner, caf::make_message(connected{id, op, caf::error{}}));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::grant(socket_id id, size_t bytes) {
  if (auto* s = find(id)) {
    s->credit += bytes;
    if (s->readable && !s->read_done)
      mark_ready(static_cast<uint32_t>(id));
  }
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::send(socket_id id, op_id op, byte_buffer buf,
                                    caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  write_op wop{op, std::move(buf), 0, std::move(rp)};
  if (s->write_shut || s->shut) {
    complete(*s, id, wop,
             make_actio_error(errc::closed, "write: write side is shut down"));
    return true;
  }
  if (s->queued + wop.buf.size() > s->limits.max_queued) {
    complete(*s, id, wop,
             make_actio_error(errc::write_queue_full,
                              "write: " + std::to_string(s->queued)
                                + " bytes queued, limit "
                                + std::to_string(s->limits.max_queued)));
    return true;
  }
  s->queued += wop.buf.size();
  s->wq.push_back(std::move(wop));
  if (!s->paused && s->queued > s->limits.high_watermark) {
    s->paused = true;
    deliver(s->owner, caf::make_message(write_paused{id, s->queued}));
  }
  // Write right away when the socket can take it: saves a loop turn on the
  // request/response hot path. Completions are messages, so no re-entrancy.
  if (s->writable)
    do_write(static_cast<uint32_t>(id));
  return true;
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::send_to(socket_id id, op_id op, byte_buffer buf,
                                       const sockaddr_storage& to,
                                       socklen_t len,
                                       caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  dgram_op dop{write_op{op, std::move(buf), 0, std::move(rp)}, to, len};
  if (!s->datagram) {
    complete(*s, id, dop.w,
             make_actio_error(errc::invalid_argument,
                              "send_to: not a datagram socket"));
    return true;
  }
  if (s->dq.size() >= s->dlimits.max_queued) {
    complete(*s, id, dop.w,
             make_actio_error(errc::write_queue_full,
                              "send_to: " + std::to_string(s->dq.size())
                                + " datagrams queued, limit "
                                + std::to_string(s->dlimits.max_queued)));
    return true;
  }
  s->dq.push_back(std::move(dop));
  if (s->writable)
    do_dgram_write(static_cast<uint32_t>(id));
  return true;
}

template <readiness_poller Poller>
caf::error readiness_driver<Poller>::connect_datagram(
  socket_id id, const sockaddr_storage& to, socklen_t len) {
  auto* s = find(id);
  if (s == nullptr)
    return make_actio_error(errc::closed, "connect: socket is closed");
  if (!s->datagram)
    return make_actio_error(errc::invalid_argument,
                            "connect: not a datagram socket");
  // Connecting a datagram socket only records the peer: it never blocks.
  if (::connect(s->fd, reinterpret_cast<const sockaddr*>(&to), len) < 0)
    return make_errno_error("connect", errno);
  return caf::none;
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::shutdown_write(socket_id id, op_id op,
                                              caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  shutdown_op sop{op, std::move(rp)};
  if (s->write_shut || s->shut) {
    complete(*s, id, sop,
             make_actio_error(errc::closed, "shutdown: already shut down"));
    return true;
  }
  s->shut = std::move(sop);
  do_write(static_cast<uint32_t>(id));
  return true;
}

template <readiness_poller Poller>
void readiness_driver<Poller>::close(socket_id id, caf::error reason) {
  if (find(id) != nullptr)
    release(static_cast<uint32_t>(id), std::move(reason));
}

template <readiness_poller Poller>
std::optional<socket_progress>
readiness_driver<Poller>::progress(socket_id id) {
  auto* s = find(id);
  if (s == nullptr)
    return std::nullopt;
  return socket_progress{s->bytes_read, s->bytes_written, s->credit,
                         s->queued, !s->read_done};
}

template <readiness_poller Poller>
void readiness_driver<Poller>::close_all() {
  // Files first: the engine finishes or cancels what runs and delivers
  // every result (on this thread).
  if (files_)
    files_->shutdown();
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].fd >= 0)
      release(i, make_actio_error(errc::shutting_down, "driver closed"));
  timers_.clear();
  timer_index_.clear();
}

// -- completions --------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::complete(slot& s, socket_id id, write_op& op,
                                        caf::error err) {
  auto bytes = op.offset;
  if (op.rp.pending()) {
    if (err)
      op.rp.deliver(std::move(err));
    else
      op.rp.deliver(bytes);
  } else {
    deliver(s.owner,
            caf::make_message(write_completed{id, op.id, bytes, std::move(err)}));
  }
}

template <readiness_poller Poller>
void readiness_driver<Poller>::complete(slot& s, socket_id id,
                                        shutdown_op& op, caf::error err) {
  if (op.rp.pending()) {
    if (err)
      op.rp.deliver(std::move(err));
    else
      op.rp.deliver(caf::unit);
  } else {
    deliver(s.owner,
            caf::make_message(shutdown_completed{id, op.id, std::move(err)}));
  }
}

/// The socket is broken (reset, error): every pending request fails with
/// `err`, then the socket is released and the owner told why.
template <readiness_poller Poller>
void readiness_driver<Poller>::fail(uint32_t index, caf::error err) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.wq.empty()) {
    complete(s, id, s.wq.front(), err);
    s.wq.pop_front();
  }
  if (s.shut) {
    complete(s, id, *s.shut, err);
    s.shut.reset();
  }
  while (!s.dq.empty()) {
    complete(s, id, s.dq.front().w, err);
    s.dq.pop_front();
  }
  if (!s.read_done && !s.listener && !s.datagram) {
    s.read_done = true;
    deliver(s.owner, caf::make_message(read_closed{id, err}));
  }
  release(index, std::move(err));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::release(uint32_t index, caf::error reason) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.wq.empty()) {
    complete(s, id, s.wq.front(),
             reason ? reason : detail::cancelled("write cancelled by close"));
    s.wq.pop_front();
  }
  while (!s.dq.empty()) {
    complete(s, id, s.dq.front().w,
             reason ? reason : detail::cancelled("send cancelled by close"));
    s.dq.pop_front();
  }
  if (s.shut) {
    complete(s, id, *s.shut,
             reason ? reason : detail::cancelled("shutdown cancelled by close"));
    s.shut.reset();
  }
  poller_.remove(s.fd, id, s.out_armed);
  ::close(s.fd);
  if (s.accept_backoff)
    --backed_off_;
  auto owner = std::move(s.owner);
  slots_.release(index);
  deliver(owner, caf::make_message(connection_closed{id, std::move(reason)}));
  // A descriptor was freed: listeners waiting out EMFILE can try again now.
  if (backed_off_ > 0)
    retry_backed_off_accepts();
}

// -- I/O ----------------------------------------------------------------------

template <readiness_poller Poller>
void readiness_driver<Poller>::want_writable(uint32_t index, bool on) {
  auto& s = slots_[index];
  if (s.out_armed == on)
    return;
  if (poller_.want_write(s.fd, id_of(index), on))
    s.out_armed = on;
}

/// Takes in what the poller saw, then does the I/O it allows.
template <readiness_poller Poller>
void readiness_driver<Poller>::update(socket_id id, const readiness& r) {
  auto* s = find(id);
  if (s == nullptr)
    return; // closed since the kernel queued the event
  bool read_eof = r.read_eof;
  bool write_eof = r.write_eof;
  if (r.error != 0) {
    if (s->datagram) {
      // The error of an earlier send (ICMP), which the poller consumed, so
      // recvmsg will not see it: report it from here. The socket stays open.
      deliver(s->owner,
              caf::make_message(datagram_error{
                id, make_errno_error("recvmsg", r.error)}));
      read_eof = write_eof = false;
    } else {
      s->eof_errno = r.error;
    }
  }
  if (r.readable) {
    s->readable = true;
    // Per event, not sticky: libkqueue also reports EV_EOF when a read
    // event finds the buffer already drained; a real EOF is on every later
    // event (epoll's RDHUP too).
    s->hup = read_eof;
  }
  if (r.writable) {
    s->writable = true;
    if (write_eof)
      s->write_eof = true;
  }
  do_io(static_cast<uint32_t>(id));
}

template <readiness_poller Poller>
void readiness_driver<Poller>::do_io(uint32_t index) {
  auto& s = slots_[index];
  if (s.fd < 0)
    return;
  if (s.listener) {
    do_accept(index);
    return;
  }
  if (s.datagram) {
    if (s.writable && !s.dq.empty())
      do_dgram_write(index);
    if (slots_[index].fd >= 0)
      do_dgram_read(index);
    return;
  }
  if (s.connecting) {
    // Only the write side decides: a read event of the unconnected socket
    // (EOF, registered before connect) says nothing about the connect.
    if (!s.writable && !s.write_eof)
      return;
    finish_connect(index);
    if (slots_[index].connecting || slots_[index].fd < 0)
      return;
  }
  if (s.writable && (!s.wq.empty() || s.shut))
    do_write(index);
  if (slots_[index].fd >= 0)
    do_read(index);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::do_accept(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (!s.accepting || s.accept_backoff || !s.readable)
    return;
  for (int i = 0; i < detail::max_accepts_per_turn; ++i) {
    int fd = detail::accept_nonblocking(s.fd);
    if (fd >= 0) {
      if (s.accept_reported) {
        s.accept_reported = false;
        deliver(s.owner, caf::make_message(accept_resumed{id}));
      }
      s.backoff = std::chrono::milliseconds{0};
      deliver(s.owner, caf::make_message(accepted{id, owned_fd{fd}}));
      continue;
    }
    auto err = errno;
    if (err == EINTR || err == ECONNABORTED || err == EPROTO)
      continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      s.readable = false;
      return;
    }
    // Out of descriptors or memory (or anything unexpected, treated the
    // same): the pending connection stays in the backlog. Retrying at once
    // would spin (the listener stays readable), so back off with a timer,
    // and retry early when we close a descriptor.
    if (!s.accept_reported) {
      s.accept_reported = true;
      deliver(s.owner, caf::make_message(
                         accept_paused{id, make_errno_error("accept", err)}));
    }
    s.accept_backoff = true;
    ++backed_off_;
    s.backoff = std::clamp(s.backoff * 2, detail::min_backoff,
                           detail::max_backoff);
    add_timer(s.backoff, timer{nullptr, id});
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
    auto n = ::recv(s.fd, scratch_.data(), want, 0);
    if (n > 0) {
      s.credit -= static_cast<size_t>(n);
      s.bytes_read += static_cast<uint64_t>(n);
      // Edge-triggered: a short read means the buffer was empty a moment ago,
      // and new data raises a new edge. Skip the EAGAIN round trip, unless the
      // peer hung up (then read on to see EOF).
      if (static_cast<size_t>(n) < want && !s.hup)
        s.readable = false;
      deliver(s.owner,
              caf::make_message(received{
                id, byte_buffer(scratch_.begin(), scratch_.begin() + n)}));
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
      deliver(s.owner, caf::make_message(read_closed{id, caf::error{}}));
      return;
    }
    auto err = errno;
    if (err == EINTR)
      continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      s.readable = false;
      return;
    }
    fail(index, make_errno_error("recv", err));
    return;
  }
  if (s.readable && s.credit > 0 && !s.read_done)
    mark_ready(index);
}

/// One recvmsg per credit. The kernel reports a datagram longer than the
/// buffer with MSG_TRUNC in msg_flags (and drops the rest): it arrives
/// marked `truncated`, never silently cut.
template <readiness_poller Poller>
void readiness_driver<Poller>::do_dgram_read(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (scratch_.size() < s.dlimits.max_size)
    scratch_.resize(s.dlimits.max_size);
  for (int i = 0; i < detail::max_reads_per_turn; ++i) {
    if (!s.readable || s.credit == 0)
      return;
    sockaddr_storage from{};
    iovec iov{scratch_.data(), s.dlimits.max_size};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    auto n = ::recvmsg(s.fd, &msg, 0);
    if (n >= 0) {
      --s.credit;
      datagram_received ev{id,
                           net::address{reinterpret_cast<sockaddr*>(&from),
                                        msg.msg_namelen},
                           byte_buffer(scratch_.begin(), scratch_.begin() + n),
                           (msg.msg_flags & MSG_TRUNC) != 0};
      deliver(s.owner, caf::make_message(std::move(ev)));
      continue;
    }
    auto err = errno;
    if (err == EINTR)
      continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      s.readable = false;
      return;
    }
    // An asynchronous error (ICMP for an earlier send): reading consumed
    // it; the socket stays usable.
    deliver(s.owner, caf::make_message(
                       datagram_error{id, make_errno_error("recvmsg", err)}));
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
  while (s.writable && !s.dq.empty()) {
    auto& op = s.dq.front();
    iovec iov{op.w.buf.data(), op.w.buf.size()};
    msghdr msg{};
    msg.msg_name = op.len > 0 ? &op.to : nullptr;
    msg.msg_namelen = op.len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    auto n = ::sendmsg(s.fd, &msg, detail::send_flags);
    caf::error err;
    if (n < 0) {
      auto code = errno;
      if (code == EINTR)
        continue;
      if (code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS) {
        s.writable = false;
        want_writable(index, true);
        return;
      }
      err = make_errno_error("sendmsg", code);
    } else {
      op.w.offset = static_cast<size_t>(n);
    }
    complete(s, id, op.w, std::move(err));
    s.dq.pop_front();
  }
  if (s.dq.empty() && s.out_armed)
    want_writable(index, false);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::do_write(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.connecting)
    return;
  while (s.writable && !s.wq.empty()) {
    auto& op = s.wq.front();
    auto left = op.buf.size() - op.offset;
    if (left > 0) {
      auto n = ::send(s.fd, op.buf.data() + op.offset, left,
                      detail::send_flags);
      if (n < 0) {
        auto err = errno;
        if (err == EINTR)
          continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          s.writable = false;
          want_writable(index, true);
          break;
        }
        fail(index, make_errno_error("send", err));
        return;
      }
      op.offset += static_cast<size_t>(n);
      s.queued -= static_cast<size_t>(n);
      s.bytes_written += static_cast<uint64_t>(n);
      if (static_cast<size_t>(n) < left) {
        s.writable = false; // short write: wait for the next write event
        want_writable(index, true);
        break;
      }
    }
    complete(s, id, op, caf::error{});
    s.wq.pop_front();
  }
  if (s.wq.empty() && s.out_armed)
    want_writable(index, false);
  if (s.paused && s.queued <= s.limits.low_watermark) {
    s.paused = false;
    deliver(s.owner, caf::make_message(write_resumed{id, s.queued}));
  }
  if (s.wq.empty() && s.shut) {
    auto op = std::move(*s.shut);
    s.shut.reset();
    s.write_shut = true;
    if (::shutdown(s.fd, SHUT_WR) < 0)
      complete(s, id, op, make_errno_error("shutdown", errno));
    else
      complete(s, id, op, caf::error{});
  }
}

// -- timers -------------------------------------------------------------------

template <readiness_poller Poller>
op_id readiness_driver<Poller>::start_timer(clock::duration delay,
                                            caf::strong_actor_ptr owner) {
  return add_timer(delay, timer{std::move(owner), 0});
}

template <readiness_poller Poller>
op_id readiness_driver<Poller>::add_timer(clock::duration delay, timer t) {
  auto id = next_timer_++;
  auto when = clock::now() + delay;
  timers_.emplace(std::make_pair(when, id), std::move(t));
  timer_index_.emplace(id, when);
  arm_timer();
  return id;
}

template <readiness_poller Poller>
bool readiness_driver<Poller>::cancel_timer(op_id id) {
  auto i = timer_index_.find(id);
  if (i == timer_index_.end())
    return false;
  timers_.erase(std::make_pair(i->second, id));
  timer_index_.erase(i);
  arm_timer();
  return true;
}

/// Hands the earliest deadline to the poller when it changed.
template <readiness_poller Poller>
void readiness_driver<Poller>::arm_timer() {
  std::optional<clock::time_point> next;
  if (!timers_.empty())
    next = timers_.begin()->first.first;
  if (next == armed_)
    return;
  armed_ = next;
  poller_.arm_timer(next);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::fire_timers() {
  auto now = clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    auto id = node.key().second;
    timer_index_.erase(id);
    auto& t = node.mapped();
    if (t.owner) {
      deliver(t.owner, caf::make_message(timer_expired{id}));
    } else if (auto* s = find(t.sock); s && s->accept_backoff) {
      s->accept_backoff = false;
      --backed_off_;
      mark_ready(static_cast<uint32_t>(t.sock));
    }
  }
  // Always re-arm, also to "none": a deadline that went off may keep going
  // off (EVFILT_TIMER is periodic) until the poller is told otherwise.
  armed_ = timers_.empty() ? std::nullopt
                           : std::optional{timers_.begin()->first.first};
  poller_.arm_timer(armed_);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::retry_backed_off_accepts() {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.fd >= 0 && s.accept_backoff) {
      s.accept_backoff = false;
      --backed_off_;
      mark_ready(i);
    }
  }
}

// -- files (the engine) --------------------------------------------------------

template <readiness_poller Poller>
file_backend& readiness_driver<Poller>::files() {
  return *files_;
}

// -- the loop's two calls -----------------------------------------------------

template <readiness_poller Poller>
bool readiness_driver<Poller>::process() {
  bool more_files = files_->process();
  if (ready_.empty())
    return more_files;
  auto batch = std::move(ready_);
  ready_.clear();
  for (auto index : batch) {
    slots_[index].queued_ready = false;
    do_io(index);
  }
  return more_files || !ready_.empty();
}

template <readiness_poller Poller>
caf::error
readiness_driver<Poller>::poll(std::optional<clock::duration> timeout) {
  // An engine whose notifications can go astray (aio on Linux: a completion
  // signal taken by a thread that had it unblocked) caps the sleep.
  if (auto cap = files_->max_sleep()) {
    clock::duration limit = *cap;
    timeout = timeout ? std::min(*timeout, limit) : limit;
  }
  if (auto err = poller_.wait(timeout))
    return err;
  for (auto& ev : poller_.events()) {
    switch (ev.what) {
      case poll_event::source::socket:
        update(ev.id, ev.state);
        break;
      case poll_event::source::timer:
        fire_timers();
        break;
      case poll_event::source::watch:
        if (watch_)
          watch_();
        break;
    }
  }
  return caf::none;
}

} // namespace actio
