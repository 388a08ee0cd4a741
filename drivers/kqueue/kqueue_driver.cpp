#include "actio/drivers/kqueue/kqueue_driver.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include "actio/actors/errc.hpp"
#include "actio/drivers/completions.hpp"

namespace actio {

namespace {

// The driver's own filters: one EVFILT_USER (the waker) and one
// EVFILT_TIMER (the earliest deadline); socket events carry their socket id
// in `udata` and come from EVFILT_READ / EVFILT_WRITE only.
constexpr uintptr_t wake_ident = 1;
constexpr uintptr_t timer_ident = 1;

// kevent's `udata` is `void*` (FreeBSD, macOS, libkqueue) or `intptr_t`
// (older NetBSD); a socket id travels in it whole.
using udata_t = decltype(std::declval<struct kevent>().udata);
static_assert(sizeof(udata_t) >= sizeof(socket_id),
              "kqueue backend: socket ids (64 bits) travel in kevent::udata");

template <class U = udata_t>
U to_udata(socket_id id) noexcept {
  if constexpr (std::is_pointer_v<U>)
    return reinterpret_cast<U>(static_cast<uintptr_t>(id));
  else
    return static_cast<U>(id);
}

template <class U = udata_t>
socket_id from_udata(U x) noexcept {
  if constexpr (std::is_pointer_v<U>)
    return static_cast<socket_id>(reinterpret_cast<uintptr_t>(x));
  else
    return static_cast<socket_id>(x);
}

// EVFILT_TIMER in microseconds where the platform has the unit (FreeBSD,
// macOS, libkqueue), else in its default milliseconds.
#ifdef NOTE_USECONDS
constexpr unsigned timer_unit = NOTE_USECONDS;
using timer_tick = std::chrono::microseconds;
#else
constexpr unsigned timer_unit = 0;
using timer_tick = std::chrono::milliseconds;
#endif

// Without timers the one EVFILT_TIMER stays registered (deleting and adding
// it again costs a descriptor under libkqueue, which may be exactly what is
// missing: the accept back-off runs under EMFILE) and is parked this far out.
constexpr auto parked = std::chrono::hours{1};

#ifdef MSG_NOSIGNAL
constexpr int send_flags = MSG_NOSIGNAL;
#else
constexpr int send_flags = 0; // SO_NOSIGPIPE is set in adopt()
#endif

/// accept(2) returning a non-blocking, close-on-exec descriptor.
int accept_nonblocking(int fd) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  int conn = ::accept(fd, nullptr, nullptr);
  if (conn >= 0) {
    ::fcntl(conn, F_SETFD, FD_CLOEXEC);
    ::fcntl(conn, F_SETFL, ::fcntl(conn, F_GETFL) | O_NONBLOCK);
  }
  return conn;
#endif
}

// Bounded work per socket and wake-up, so one busy peer cannot starve the
// others; leftover work goes on the ready list.
constexpr int max_reads_per_turn = 16;
constexpr int max_accepts_per_turn = 64;
constexpr size_t read_chunk = 64 * 1024;

constexpr auto min_backoff = std::chrono::milliseconds{5};
constexpr auto max_backoff = std::chrono::milliseconds{500};

caf::error cancelled(const char* what) {
  return make_actio_error(errc::cancelled, what);
}

} // namespace

// -- construction -------------------------------------------------------------

caf::expected<std::unique_ptr<driver>> kqueue_driver::make() {
  int kq = ::kqueue();
  if (kq < 0)
    return make_errno_error("kqueue", errno);
  ::fcntl(kq, F_SETFD, FD_CLOEXEC); // (BSD: not inherited anyway)
  struct kevent changes[2];
  EV_SET(&changes[0], wake_ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
         to_udata(0));
  EV_SET(&changes[1], timer_ident, EVFILT_TIMER, EV_ADD, timer_unit,
         std::chrono::duration_cast<timer_tick>(parked).count(), to_udata(0));
  if (::kevent(kq, changes, 2, nullptr, 0, nullptr) < 0) {
    auto err = errno;
    ::close(kq);
    return make_errno_error("kevent(EVFILT_USER, EVFILT_TIMER)", err);
  }
  return std::unique_ptr<driver>{new kqueue_driver(kq)};
}

kqueue_driver::kqueue_driver(int kq) : kq_(kq), scratch_(read_chunk) {
}

kqueue_driver::~kqueue_driver() {
  files_.reset(); // completes what is left, on this thread
  close_all();
  ::close(kq_);
}

// -- any thread ---------------------------------------------------------------

void kqueue_driver::wake() noexcept {
  // Only the first waker since the loop last saw the trigger triggers.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    struct kevent ev;
    EV_SET(&ev, wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, 0, to_udata(0));
    while (::kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0 && errno == EINTR)
      ; // retry
  }
}

// -- slots --------------------------------------------------------------------

socket_id kqueue_driver::id_of(uint32_t index) const noexcept {
  return slots_.id_of(index);
}

kqueue_driver::slot* kqueue_driver::find(socket_id id) noexcept {
  return slots_.find(id);
}

size_t kqueue_driver::sockets() const noexcept {
  return slots_.live();
}

caf::expected<socket_id> kqueue_driver::adopt(int fd,
                                             caf::strong_actor_ptr owner,
                                             write_limits limits) {
  auto index = slots_.allocate();
  auto& s = slots_[index];
#ifdef SO_NOSIGPIPE
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
  // Read interest only: EVFILT_WRITE is added only while a write is blocked
  // (as epoll arms EPOLLOUT): with it always on, every ACK that frees
  // send-buffer space raises an event. A new socket is writable until a
  // send says otherwise.
  if (!change(fd, EVFILT_READ, EV_ADD | EV_CLEAR, id_of(index))) {
    auto err = errno;
    ::close(fd);
    slots_.undo(index);
    return make_errno_error("kevent(EV_ADD EVFILT_READ)", err);
  }
  s.fd = fd;
  s.owner = std::move(owner);
  s.limits = limits;
  s.writable = true;
  return id_of(index);
}

caf::expected<socket_id>
kqueue_driver::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                             datagram_limits limits) {
  auto id = adopt(fd, std::move(owner), write_limits{});
  if (id) {
    auto& s = slots_[static_cast<uint32_t>(*id)];
    s.datagram = true;
    s.dlimits = limits;
  }
  return id;
}

bool kqueue_driver::change(int fd, int filter, unsigned flags, socket_id id) {
  struct kevent ev;
  EV_SET(&ev, static_cast<uintptr_t>(fd), filter, flags, 0, 0, to_udata(id));
  int rc;
  do {
    rc = ::kevent(kq_, &ev, 1, nullptr, 0, nullptr);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

void kqueue_driver::mark_ready(uint32_t index) {
  auto& s = slots_[index];
  if (!s.queued_ready) {
    s.queued_ready = true;
    ready_.push_back(index);
  }
}

// -- requests -----------------------------------------------------------------

void kqueue_driver::start_accept(socket_id id) {
  if (auto* s = find(id)) {
    s->listener = true;
    s->accepting = true;
    // A connection may have arrived before we asked: an EV_CLEAR filter
    // would not report it again, so try once right away.
    s->readable = true;
    mark_ready(static_cast<uint32_t>(id));
  }
}

bool kqueue_driver::connect(socket_id id, const sockaddr_storage& addr,
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
    // Done when the socket becomes writable (or fails): EVFILT_WRITE.
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

void kqueue_driver::finish_connect(uint32_t index) {
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
        s.writable = false; // not yet: wait for the next EVFILT_WRITE
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

void kqueue_driver::grant(socket_id id, size_t bytes) {
  if (auto* s = find(id)) {
    s->credit += bytes;
    if (s->readable && !s->read_done)
      mark_ready(static_cast<uint32_t>(id));
  }
}

bool kqueue_driver::send(socket_id id, op_id op, byte_buffer buf,
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

bool kqueue_driver::send_to(socket_id id, op_id op, byte_buffer buf,
                           const sockaddr_storage& to, socklen_t len,
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

caf::error kqueue_driver::connect_datagram(socket_id id,
                                          const sockaddr_storage& to,
                                          socklen_t len) {
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

bool kqueue_driver::shutdown_write(socket_id id, op_id op,
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

void kqueue_driver::close(socket_id id, caf::error reason) {
  if (find(id) != nullptr)
    release(static_cast<uint32_t>(id), std::move(reason));
}

std::optional<socket_progress> kqueue_driver::progress(socket_id id) {
  auto* s = find(id);
  if (s == nullptr)
    return std::nullopt;
  return socket_progress{s->bytes_read, s->bytes_written, s->credit,
                         s->queued, !s->read_done};
}

void kqueue_driver::close_all() {
  // Files first: the pool finishes running jobs, cancels queued ones and
  // delivers every result (on this thread) before it goes.
  files_.reset();
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].fd >= 0)
      release(i, make_actio_error(errc::shutting_down, "driver closed"));
  timers_.clear();
  timer_index_.clear();
}

// -- completions --------------------------------------------------------------

void kqueue_driver::complete(slot& s, socket_id id, write_op& op,
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

void kqueue_driver::complete(slot& s, socket_id id, shutdown_op& op,
                            caf::error err) {
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
void kqueue_driver::fail(uint32_t index, caf::error err) {
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

void kqueue_driver::release(uint32_t index, caf::error reason) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.wq.empty()) {
    complete(s, id, s.wq.front(),
             reason ? reason : cancelled("write cancelled by close"));
    s.wq.pop_front();
  }
  while (!s.dq.empty()) {
    complete(s, id, s.dq.front().w,
             reason ? reason : cancelled("send cancelled by close"));
    s.dq.pop_front();
  }
  if (s.shut) {
    complete(s, id, *s.shut,
             reason ? reason : cancelled("shutdown cancelled by close"));
    s.shut.reset();
  }
  // EV_DELETE before close: libkqueue cannot see a close, and a knote left
  // behind would be attributed to whatever reuses the descriptor.
  change(s.fd, EVFILT_READ, EV_DELETE, id);
  if (s.out_armed)
    change(s.fd, EVFILT_WRITE, EV_DELETE, id);
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

void kqueue_driver::want_writable(uint32_t index, bool on) {
  auto& s = slots_[index];
  if (s.out_armed == on)
    return;
  // Adding evaluates the filter at once: a socket writable by now reports.
  if (change(s.fd, EVFILT_WRITE, on ? EV_ADD | EV_CLEAR : EV_DELETE,
             id_of(index)))
    s.out_armed = on;
}

void kqueue_driver::do_io(uint32_t index) {
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
    // Only EVFILT_WRITE decides: a read event of the unconnected socket
    // (EV_EOF, registered before connect) says nothing about the connect.
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

void kqueue_driver::do_accept(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (!s.accepting || s.accept_backoff || !s.readable)
    return;
  for (int i = 0; i < max_accepts_per_turn; ++i) {
    int fd = accept_nonblocking(s.fd);
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
    // same): the pending connection stays in the backlog. Retrying at once would spin (the listener stays readable), so
    // back off with a timer, and retry early when we close a descriptor.
    if (!s.accept_reported) {
      s.accept_reported = true;
      deliver(s.owner,
              caf::make_message(accept_paused{id, make_errno_error("accept", err)}));
    }
    s.accept_backoff = true;
    ++backed_off_;
    s.backoff = std::clamp(s.backoff * 2, min_backoff, max_backoff);
    add_timer(s.backoff, timer{nullptr, id});
    return;
  }
  mark_ready(index); // more may be waiting: continue next turn
}

void kqueue_driver::do_read(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.connecting)
    return;
  for (int i = 0; i < max_reads_per_turn; ++i) {
    if (!s.readable || s.credit == 0 || s.read_done)
      return;
    auto want = std::min(s.credit, scratch_.size());
    auto n = ::recv(s.fd, scratch_.data(), want, 0);
    if (n > 0) {
      s.credit -= static_cast<size_t>(n);
      s.bytes_read += static_cast<uint64_t>(n);
      // EV_CLEAR: a short read means the buffer was empty a moment ago,
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
        // Reset, not an orderly EOF: libkqueue consumed the socket error
        // (and with it recv's ECONNRESET) for the event's fflags.
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
void kqueue_driver::do_dgram_read(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (scratch_.size() < s.dlimits.max_size)
    scratch_.resize(s.dlimits.max_size);
  for (int i = 0; i < max_reads_per_turn; ++i) {
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

/// One sendmsg per datagram, in order; EAGAIN waits for EVFILT_WRITE. A failed
/// datagram (EMSGSIZE, ICMP error) fails only its own request.
void kqueue_driver::do_dgram_write(uint32_t index) {
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
    auto n = ::sendmsg(s.fd, &msg, send_flags);
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

void kqueue_driver::do_write(uint32_t index) {
  auto& s = slots_[index];
  auto id = id_of(index);
  if (s.connecting)
    return;
  while (s.writable && !s.wq.empty()) {
    auto& op = s.wq.front();
    auto left = op.buf.size() - op.offset;
    if (left > 0) {
      auto n = ::send(s.fd, op.buf.data() + op.offset, left, send_flags);
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
        s.writable = false; // short write: wait for EVFILT_WRITE
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

op_id kqueue_driver::start_timer(clock::duration delay,
                                caf::strong_actor_ptr owner) {
  return add_timer(delay, timer{std::move(owner), 0});
}

op_id kqueue_driver::add_timer(clock::duration delay, timer t) {
  auto id = next_timer_++;
  auto when = clock::now() + delay;
  timers_.emplace(std::make_pair(when, id), std::move(t));
  timer_index_.emplace(id, when);
  arm_timer();
  return id;
}

bool kqueue_driver::cancel_timer(op_id id) {
  auto i = timer_index_.find(id);
  if (i == timer_index_.end())
    return false;
  timers_.erase(std::make_pair(i->second, id));
  timer_index_.erase(i);
  arm_timer();
  return true;
}

void kqueue_driver::arm_timer() {
  std::optional<clock::time_point> next;
  if (!timers_.empty())
    next = timers_.begin()->first.first;
  if (next == armed_)
    return;
  armed_ = next;
  // EV_ADD on the registered timer re-arms it (relative). Never EV_ONESHOT:
  // that would delete the knote, and adding it back may need a descriptor.
  // Rounded up to the unit and at least one tick, so it never fires early
  // by rounding (firing early anyway only re-arms, see fire_timers) and
  // never gets a zero, which would disarm libkqueue's timerfd.
  int64_t ticks;
  if (next)
    ticks = std::max<int64_t>(
      std::chrono::ceil<timer_tick>(*next - clock::now()).count(), 1);
  else
    ticks = std::chrono::duration_cast<timer_tick>(parked).count();
  struct kevent ev;
  EV_SET(&ev, timer_ident, EVFILT_TIMER, EV_ADD, timer_unit,
         static_cast<intptr_t>(ticks), to_udata(0));
  int rc;
  do {
    rc = ::kevent(kq_, &ev, 1, nullptr, 0, nullptr);
  } while (rc < 0 && errno == EINTR);
  // Should re-arming fail, poll() bounds its wait by the next deadline.
  timer_failed_ = rc < 0;
}

void kqueue_driver::fire_timers() {
  armed_.reset();
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
  arm_timer();
}

void kqueue_driver::retry_backed_off_accepts() {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.fd >= 0 && s.accept_backoff) {
      s.accept_backoff = false;
      --backed_off_;
      mark_ready(i);
    }
  }
}

// -- the loop's two calls -----------------------------------------------------

// -- files (worker pool) --------------------------------------------------------

file_pool& kqueue_driver::files() {
  if (!files_)
    files_ = std::make_unique<file_pool>([this] { wake(); });
  return *files_;
}

void kqueue_driver::open_file(std::string path, int flags, unsigned mode,
                             caf::response_promise rp) {
  files().open_file(std::move(path), flags, mode, std::move(rp));
}

void kqueue_driver::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                           caf::response_promise rp) {
  files().read_at(file, offset, len, id, std::move(rp));
}

void kqueue_driver::write_at(file_id file, uint64_t offset, byte_buffer buf,
                            op_id id, caf::response_promise rp) {
  files().write_at(file, offset, std::move(buf), id, std::move(rp));
}

void kqueue_driver::sync_file(file_id file, bool datasync,
                             caf::response_promise rp) {
  files().sync_file(file, datasync, std::move(rp));
}

void kqueue_driver::stat_file(file_id file, caf::response_promise rp) {
  files().stat_file(file, std::move(rp));
}

void kqueue_driver::close_file(file_id file, caf::response_promise rp) {
  files().close_file(file, std::move(rp));
}

bool kqueue_driver::cancel_file_op(op_id id) {
  return files_ ? files_->cancel(id) : false;
}

bool kqueue_driver::process() {
  if (files_)
    files_->drain();
  if (ready_.empty())
    return false;
  auto batch = std::move(ready_);
  ready_.clear();
  for (auto index : batch) {
    slots_[index].queued_ready = false;
    do_io(index);
  }
  return !ready_.empty();
}

caf::error kqueue_driver::poll(std::optional<clock::duration> timeout) {
  if (timer_failed_ && !timers_.empty()) {
    auto until = timers_.begin()->first.first - clock::now();
    timeout = std::max(clock::duration::zero(),
                       timeout ? std::min(*timeout, until) : until);
  }
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::min<clock::duration>(*timeout, std::chrono::seconds{60}))
                .count();
    ns = std::max<int64_t>(ns, 0);
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  struct kevent events[256];
  int n = ::kevent(kq_, nullptr, 0, events, 256, tsp);
  if (n < 0) {
    if (errno == EINTR)
      return caf::none;
    return make_errno_error("kevent", errno);
  }
  if (timer_failed_)
    fire_timers();
  for (int i = 0; i < n; ++i) {
    auto& ev = events[i];
    if (ev.filter == EVFILT_USER) {
      wake_pending_.store(false, std::memory_order_release);
      continue;
    }
    if (ev.filter == EVFILT_TIMER) {
      fire_timers();
      continue;
    }
    if (ev.flags & EV_ERROR)
      continue; // (only changes report errors, and we pass none here)
    auto token = from_udata(ev.udata);
    auto* s = find(token);
    if (s == nullptr)
      continue; // closed since the kernel queued the event
    bool eof = (ev.flags & EV_EOF) != 0;
    if (s->datagram && eof && ev.fflags != 0) {
      // libkqueue reads SO_ERROR (an ICMP error for an earlier send) into
      // fflags, so recvmsg will not see it: report it from here. (Native
      // kqueue leaves it to recvmsg and sets no EV_EOF on UDP sockets.)
      deliver(s->owner,
              caf::make_message(datagram_error{
                token, make_errno_error("recvmsg", static_cast<int>(ev.fflags))}));
      eof = false;
    }
    // With EV_EOF, fflags holds the socket error, if any (0: orderly EOF).
    if (eof && ev.fflags != 0)
      s->eof_errno = static_cast<int>(ev.fflags);
    if (ev.filter == EVFILT_READ) {
      s->readable = true;
      // Per event, not sticky: libkqueue also reports EV_EOF when a read
      // event finds the buffer already drained; a real EOF keeps EV_EOF on
      // every later event.
      s->hup = eof;
    } else if (ev.filter == EVFILT_WRITE) {
      s->writable = true;
      if (eof)
        s->write_eof = true;
    } else {
      continue;
    }
    do_io(static_cast<uint32_t>(token));
  }
  return caf::none;
}

} // namespace actio
