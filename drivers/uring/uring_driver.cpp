#include "actio/drivers/uring/uring_driver.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_control_block.hpp>
#include <caf/make_message.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

constexpr unsigned ring_entries = 1024;
// Completions of one turn: a multishot recv per connection may complete
// before the driver reaps; a CQ too small for that overflows into the
// kernel's slow list.
constexpr unsigned cq_entries = 16384;
constexpr uint16_t buf_group = 1;

constexpr auto min_backoff = std::chrono::milliseconds{5};
constexpr auto max_backoff = std::chrono::milliseconds{500};

// CQEs of requests whose result nobody needs (cancel, timeout-remove).
constexpr uint64_t ignore_token = 0;

const int used_opcodes[] = {
  IORING_OP_READ,   IORING_OP_WRITE,  IORING_OP_ACCEPT,        IORING_OP_RECV,
  IORING_OP_SEND,   IORING_OP_SHUTDOWN, IORING_OP_CLOSE,       IORING_OP_OPENAT,
  IORING_OP_FSYNC,  IORING_OP_STATX,  IORING_OP_ASYNC_CANCEL,  IORING_OP_TIMEOUT,
  IORING_OP_TIMEOUT_REMOVE, IORING_OP_PROVIDE_BUFFERS, IORING_OP_RECVMSG,
  IORING_OP_SENDMSG,
};

__kernel_timespec to_timespec(driver::clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0)
    ns = 0;
  __kernel_timespec ts{};
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  return ts;
}

caf::error cancelled(const char* what) {
  return make_actio_error(errc::cancelled, what);
}

} // namespace

// -- probe and setup ----------------------------------------------------------

caf::error uring_driver::probe() {
  io_uring ring;
  if (auto rc = io_uring_queue_init(8, &ring, 0); rc < 0)
    return make_errno_error("io_uring_setup", -rc);
  auto* p = io_uring_get_probe_ring(&ring);
  if (p == nullptr) {
    io_uring_queue_exit(&ring);
    return make_actio_error(errc::backend_unavailable,
                            "io_uring: the kernel cannot be probed (< 5.6)");
  }
  caf::error result;
  for (auto opcode : used_opcodes)
    if (!io_uring_opcode_supported(p, opcode)) {
      result = make_actio_error(errc::backend_unavailable,
                                "io_uring: opcode " + std::to_string(opcode)
                                  + " is not supported by this kernel");
      break;
    }
  io_uring_free_probe(p);
  // Provided-buffer rings (5.19) back the multishot recv (6.0).
  if (!result) {
    void* mem = nullptr;
    if (posix_memalign(&mem, 4096, sizeof(io_uring_buf) * 8) == 0) {
      io_uring_buf_reg reg{};
      reg.ring_addr = reinterpret_cast<uint64_t>(mem);
      reg.ring_entries = 8;
      reg.bgid = 7;
      if (auto rc = io_uring_register_buf_ring(&ring, &reg, 0); rc < 0)
        result = make_errno_error("io_uring: provided-buffer ring", -rc);
      else
        io_uring_unregister_buf_ring(&ring, 7);
      free(mem);
    }
  }
  io_uring_queue_exit(&ring);
  return result;
}

caf::expected<std::unique_ptr<driver>> uring_driver::make() {
  if (auto err = probe())
    return make_actio_error(errc::backend_unavailable,
                            "uring unavailable: " + to_string(err));
  std::unique_ptr<uring_driver> drv{new uring_driver};
  if (auto err = drv->init())
    return err;
  return std::unique_ptr<driver>{std::move(drv)};
}

uring_driver::uring_driver() = default;

caf::error uring_driver::init() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN
                 | IORING_SETUP_CQSIZE;
  params.cq_entries = cq_entries;
  auto rc = io_uring_queue_init_params(ring_entries, &ring_, &params);
  if (rc < 0) {
    // Older kernels lack the flags: plain setup.
    params = io_uring_params{};
    rc = io_uring_queue_init_params(ring_entries, &ring_, &params);
  }
  if (rc < 0)
    return make_errno_error("io_uring_queue_init", -rc);
  ring_ok_ = true;
  evfd_ = eventfd(0, EFD_CLOEXEC);
  if (evfd_ < 0)
    return make_errno_error("eventfd", errno);
  if (auto err = bufs_.init(ring_, buf_group))
    return err;
  arm_wake();
  return caf::none;
}

uring_driver::~uring_driver() {
  if (ring_ok_) {
    close_all();
    // Reap until the kernel gave back every operation's storage.
    stopping_ = true;
    for (int i = 0; i < 1000 && !ops_.empty(); ++i) {
      io_uring_sqe* s = io_uring_get_sqe(&ring_);
      if (s != nullptr) {
        io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(s, ignore_token);
      }
      poll(std::chrono::milliseconds{10});
    }
    bufs_.unregister(ring_);
    io_uring_queue_exit(&ring_);
  }
  if (evfd_ >= 0)
    ::close(evfd_);
}

io_uring_sqe* uring_driver::sqe() {
  auto* s = io_uring_get_sqe(&ring_);
  while (s == nullptr) {
    // Submission queue full: hand what we have to the kernel and retry.
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

uring_driver::op* uring_driver::new_op(op_kind kind) {
  auto ptr = std::make_unique<op>();
  ptr->kind = kind;
  auto* raw = ptr.get();
  ops_.emplace(raw, std::move(ptr));
  return raw;
}

void uring_driver::op_done(op* o) {
  ops_.erase(o);
}

// -- wake-up ------------------------------------------------------------------

void uring_driver::arm_wake() {
  auto* o = new_op(op_kind::wake);
  auto* s = sqe();
  io_uring_prep_read(s, evfd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data(s, o);
}

void uring_driver::wake() noexcept {
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    while (::write(evfd_, &one, sizeof(one)) < 0 && errno == EINTR)
      ; // retry
  }
}

// -- the loop's two calls -----------------------------------------------------

bool uring_driver::process() {
  if (!ready_.empty()) {
    auto batch = std::move(ready_);
    ready_.clear();
    for (auto index : batch) {
      auto& s = slots_[index];
      if (s.fd < 0 || s.closing)
        continue;
      if (s.listener)
        arm_accept(index);
      else if (s.datagram)
        arm_dgram_recv(index);
      else
        arm_recv(index);
    }
  }
  return !ready_.empty();
}

caf::error uring_driver::poll(std::optional<clock::duration> timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout && *timeout <= clock::duration::zero()) {
    // Not plain io_uring_submit: with COOP_TASKRUN, completions wait as task
    // work until we enter the kernel asking for events. A busy loop that
    // never blocks would otherwise see its CQEs late.
    rc = io_uring_submit_and_get_events(&ring_);
  } else if (timeout) {
    auto ts = to_timespec(*timeout);
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  } else {
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
  }
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
    return make_errno_error("io_uring_submit_and_wait", -rc);
  // Dispatch may queue new SQEs; completions are reaped in batches.
  for (int round = 0; round < 4; ++round) {
    unsigned head;
    unsigned count = 0;
    io_uring_cqe* c;
    io_uring_for_each_cqe(&ring_, head, c) {
      dispatch(c);
      ++count;
    }
    if (count == 0)
      break;
    io_uring_cq_advance(&ring_, count);
  }
  flush_received();
  return caf::none;
}

/// Delivers what the batch's recv completions stashed: one `received` per
/// socket and batch, however many buffers its bytes came in.
void uring_driver::flush_received() {
  auto batch = std::move(to_flush_);
  to_flush_.clear();
  for (auto index : batch) {
    auto& s = slots_[index];
    if (!s.flush_queued)
      continue; // released (and maybe reused) meanwhile
    s.flush_queued = false;
    if (s.fd < 0 || s.closing)
      continue;
    flush_stash(index);
    arm_recv(index);
  }
}

void uring_driver::dispatch(io_uring_cqe* cqe) {
  auto token = io_uring_cqe_get_data64(cqe);
  if (token == ignore_token)
    return;
  auto* o = reinterpret_cast<op*>(token);
  auto res = cqe->res;
  auto flags = cqe->flags;
  switch (o->kind) {
    case op_kind::wake:
      op_done(o);
      wake_pending_.store(false, std::memory_order_release);
      if (!stopping_)
        arm_wake();
      return;
    case op_kind::accept:
      on_accept(o, res, flags);
      return;
    case op_kind::recv:
      on_recv(o, res, flags);
      return;
    case op_kind::send:
      on_send(o, res);
      return;
    case op_kind::recvmsg:
      on_dgram_recv(o, res);
      return;
    case op_kind::sendmsg:
      on_dgram_send(o, res);
      return;
    case op_kind::shutdown:
      on_shutdown(o, res);
      return;
    case op_kind::connect:
      on_connect(o, res);
      return;
    case op_kind::close_socket:
      on_close_socket(o, res);
      return;
    case op_kind::timer:
      on_timer(o, res);
      return;
    default:
      on_file(o, res);
      return;
  }
}

// -- sockets: registry --------------------------------------------------------

socket_id uring_driver::id_of(uint32_t index) const noexcept {
  return slots_.id_of(index);
}

uring_driver::slot* uring_driver::find(socket_id id) noexcept {
  auto* s = slots_.find(id);
  return s != nullptr && !s->closing ? s : nullptr;
}

size_t uring_driver::sockets() const noexcept {
  return slots_.live();
}

caf::expected<socket_id> uring_driver::adopt(int fd,
                                             caf::strong_actor_ptr owner,
                                             write_limits limits) {
  auto index = slots_.allocate();
  auto& s = slots_[index];
  s.fd = fd;
  s.owner = std::move(owner);
  s.limits = limits;
  return id_of(index);
}

// -- sockets: requests --------------------------------------------------------

void uring_driver::start_accept(socket_id id) {
  if (auto* s = find(id)) {
    s->listener = true;
    arm_accept(static_cast<uint32_t>(id));
  }
}

void uring_driver::arm_accept(uint32_t index) {
  auto& s = slots_[index];
  if (s.accept_op != nullptr || s.accept_backoff || s.closing)
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
  auto* s = find(id);
  if (s == nullptr)
    return false;
  s->connecting = true;
  auto* o = new_op(op_kind::connect);
  o->target = id;
  o->id = op_ident;
  o->addr = addr;
  o->addr_len = len;
  ++s->ops;
  auto* e = sqe();
  io_uring_prep_connect(e, s->fd, reinterpret_cast<sockaddr*>(&o->addr),
                        o->addr_len);
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
    err = cancelled("connect cancelled by close");
  else if (res < 0)
    err = make_errno_error("connect", -res);
  deliver(s.owner, caf::make_message(connected{id, o->id, err}));
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

// -- datagram sockets ----------------------------------------------------------

caf::expected<socket_id>
uring_driver::adopt_datagram(int fd, caf::strong_actor_ptr owner,
                             datagram_limits limits) {
  auto id = adopt(fd, std::move(owner), write_limits{});
  if (id) {
    auto& s = slots_[static_cast<uint32_t>(*id)];
    s.datagram = true;
    s.dlimits = limits;
  }
  return id;
}

caf::error uring_driver::connect_datagram(socket_id id,
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

bool uring_driver::send_to(socket_id id, op_id op, byte_buffer buf,
                           const sockaddr_storage& to, socklen_t len,
                           caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  dgram_req d{write_req{op, std::move(buf), std::move(rp)}, to, len};
  if (!s->datagram) {
    complete_write(*s, id, d.w, 0,
                   make_actio_error(errc::invalid_argument,
                                    "send_to: not a datagram socket"));
    return true;
  }
  if (s->dq.size() >= s->dlimits.max_queued) {
    complete_write(*s, id, d.w, 0,
                   make_actio_error(errc::write_queue_full,
                                    "send_to: " + std::to_string(s->dq.size())
                                      + " datagrams queued, limit "
                                      + std::to_string(s->dlimits.max_queued)));
    return true;
  }
  s->dq.push_back(std::move(d));
  submit_dgram_send(static_cast<uint32_t>(id));
  return true;
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
  o->addr = d.to;
  o->addr_len = d.len;
  s.dq.pop_front();
  o->iov = iovec{o->w.buf.data(), o->w.buf.size()};
  o->msg.msg_name = o->addr_len > 0 ? &o->addr : nullptr;
  o->msg.msg_namelen = o->addr_len;
  o->msg.msg_iov = &o->iov;
  o->msg.msg_iovlen = 1;
  s.send_op = o;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_sendmsg(e, s.fd, &o->msg, MSG_NOSIGNAL);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::on_dgram_send(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  s.send_op = nullptr;
  --s.ops;
  if (s.closing) {
    // The kernel may have sent it before the cancel reached it: say so.
    if (res >= 0)
      complete_write(s, id, o->w, static_cast<size_t>(res), caf::error{});
    else
      complete_write(s, id, o->w, 0, cancelled("send cancelled by close"));
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS) {
    // Retry the same datagram first: order is kept.
    s.dq.push_front(dgram_req{std::move(o->w), o->addr, o->addr_len});
    op_done(o);
    submit_dgram_send(index);
    return;
  }
  // A failed datagram (EMSGSIZE, an ICMP error) fails only its request.
  if (res < 0)
    complete_write(s, id, o->w, 0, make_errno_error("sendmsg", -res));
  else
    complete_write(s, id, o->w, static_cast<size_t>(res), caf::error{});
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
  o->buf.resize(s.dlimits.max_size);
  o->iov = iovec{o->buf.data(), o->buf.size()};
  o->msg.msg_name = &o->addr;
  o->msg.msg_namelen = sizeof(o->addr);
  o->msg.msg_iov = &o->iov;
  o->msg.msg_iovlen = 1;
  s.recv_op = o;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_recvmsg(e, s.fd, &o->msg, 0);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::on_dgram_recv(op* o, int res) {
  auto index = static_cast<uint32_t>(o->target);
  auto& s = slots_[index];
  auto id = id_of(index);
  s.recv_op = nullptr;
  --s.ops;
  if (s.closing) {
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res >= 0) {
    --s.credit;
    // Copy out at the datagram's size: the op's buffer has the receive size.
    datagram_received ev{id,
                         net::address{reinterpret_cast<sockaddr*>(&o->addr),
                                      o->msg.msg_namelen},
                         byte_buffer(o->buf.begin(), o->buf.begin() + res),
                         (o->msg.msg_flags & MSG_TRUNC) != 0};
    deliver(s.owner, caf::make_message(std::move(ev)));
  } else if (res != -EINTR && res != -EAGAIN && res != -ECANCELED) {
    // An asynchronous error (ICMP for an earlier send); the socket stays.
    deliver(s.owner, caf::make_message(
                       datagram_error{id, make_errno_error("recvmsg", -res)}));
  }
  op_done(o);
  arm_dgram_recv(index);
}

void uring_driver::arm_recv(uint32_t index) {
  auto& s = slots_[index];
  if (s.datagram || s.connecting || s.credit == 0 || s.recv_op != nullptr || s.read_done || s.closing
      || !s.stash.empty())
    return;
  auto* o = new_op(op_kind::recv);
  o->target = id_of(index);
  s.recv_op = o;
  s.recv_cancel_sent = false;
  s.starved = false;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_recv_multishot(e, s.fd, nullptr, 0, 0);
  e->flags |= IOSQE_BUFFER_SELECT;
  e->buf_group = buf_group;
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
      deliver(s.owner, caf::make_message(received{id, std::move(front)}));
      s.stash.pop_front();
    } else {
      byte_buffer part(front.begin(), front.begin() + s.credit);
      front.erase(front.begin(), front.begin() + s.credit);
      s.credit = 0;
      deliver(s.owner, caf::make_message(received{id, std::move(part)}));
    }
  }
  if (s.stash.empty() && s.read_done && !s.read_reported && s.recv_op == nullptr) {
    s.read_reported = true;
    deliver(s.owner, caf::make_message(read_closed{id, s.read_error}));
  }
}

bool uring_driver::send(socket_id id, op_id op, byte_buffer buf,
                        caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  write_req w{op, std::move(buf), std::move(rp)};
  if (s->write_shut || s->shut) {
    complete_write(*s, id, w, 0,
                   make_actio_error(errc::closed, "write: write side is shut down"));
    return true;
  }
  if (s->queued + w.buf.size() > s->limits.max_queued) {
    complete_write(*s, id, w, 0,
                   make_actio_error(errc::write_queue_full,
                                    "write: " + std::to_string(s->queued)
                                      + " bytes queued, limit "
                                      + std::to_string(s->limits.max_queued)));
    return true;
  }
  s->queued += w.buf.size();
  s->wq.push_back(std::move(w));
  if (!s->paused && s->queued > s->limits.high_watermark) {
    s->paused = true;
    deliver(s->owner, caf::make_message(write_paused{id, s->queued}));
  }
  if (s->send_op == nullptr)
    submit_send(static_cast<uint32_t>(id));
  return true;
}

/// One send in flight per socket keeps the byte stream in order.
void uring_driver::submit_send(uint32_t index) {
  auto& s = slots_[index];
  if (s.send_op != nullptr || s.closing || s.connecting)
    return;
  if (s.wq.empty()) {
    if (s.paused && s.queued <= s.limits.low_watermark) {
      s.paused = false;
      deliver(s.owner, caf::make_message(write_resumed{id_of(index), s.queued}));
    }
    if (s.shut)
      submit_shutdown(index);
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
    complete_write(s, o->target, o->w, 0, caf::error{});
    op_done(o);
    submit_send(index);
    return;
  }
  auto* e = sqe();
  io_uring_prep_send(e, s.fd, o->w.buf.data(), o->w.buf.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data(e, o);
}

void uring_driver::submit_shutdown(uint32_t index) {
  auto& s = slots_[index];
  auto* o = new_op(op_kind::shutdown);
  o->target = id_of(index);
  o->w = std::move(*s.shut);
  s.shut.reset();
  s.write_shut = true;
  ++s.ops;
  auto* e = sqe();
  io_uring_prep_shutdown(e, s.fd, SHUT_WR);
  io_uring_sqe_set_data(e, o);
}

bool uring_driver::shutdown_write(socket_id id, op_id op,
                                  caf::response_promise rp) {
  auto* s = find(id);
  if (s == nullptr)
    return false;
  write_req w{op, {}, std::move(rp)};
  if (s->write_shut || s->shut) {
    if (w.rp.pending())
      w.rp.deliver(make_actio_error(errc::closed, "shutdown: already shut down"));
    else
      deliver(s->owner, caf::make_message(shutdown_completed{
                          id, op, make_actio_error(errc::closed,
                                                   "shutdown: already shut down")}));
    return true;
  }
  s->shut = std::move(w);
  auto index = static_cast<uint32_t>(id);
  if (s->send_op == nullptr && s->wq.empty() && !s->connecting)
    submit_shutdown(index);
  return true;
}

void uring_driver::close(socket_id id, caf::error reason) {
  if (find(id) != nullptr)
    begin_close(static_cast<uint32_t>(id), std::move(reason));
}

std::optional<socket_progress> uring_driver::progress(socket_id id) {
  auto* s = find(id);
  if (s == nullptr || s->closing)
    return std::nullopt;
  return socket_progress{s->bytes_read, s->bytes_written, s->credit,
                         s->queued, !s->read_done};
}

// -- sockets: completions -----------------------------------------------------

void uring_driver::complete_write(slot& s, socket_id id, write_req& w,
                                  size_t bytes, caf::error err) {
  if (w.rp.pending()) {
    if (err)
      w.rp.deliver(std::move(err));
    else
      w.rp.deliver(bytes);
  } else {
    deliver(s.owner,
            caf::make_message(write_completed{id, w.id, bytes, std::move(err)}));
  }
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
    if (s.accept_reported) {
      s.accept_reported = false;
      deliver(s.owner, caf::make_message(accept_resumed{id}));
    }
    s.backoff = std::chrono::milliseconds{0};
    deliver(s.owner, caf::make_message(accepted{id, owned_fd{res}}));
  } else if (res == -EINTR || res == -ECONNABORTED || res == -EAGAIN
             || res == -ECANCELED) {
    // transient: re-armed below
  } else {
    // EMFILE and friends: the connection stays in the backlog; back off
    // (a timer), or retry as soon as one of our descriptors closes.
    if (!s.accept_reported) {
      s.accept_reported = true;
      deliver(s.owner, caf::make_message(
                         accept_paused{id, make_errno_error("accept", -res)}));
    }
    if (!s.accept_backoff) {
      s.accept_backoff = true;
      ++backed_off_;
      s.backoff = std::clamp(s.backoff * 2, min_backoff, max_backoff);
      auto* t = new_op(op_kind::timer);
      t->target = id; // no owner: accept back-off
      t->ts = to_timespec(s.backoff);
      auto* e = sqe();
      io_uring_prep_timeout(e, &t->ts, 0, 0);
      io_uring_sqe_set_data(e, t);
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
    if (!s.flush_queued) {
      s.flush_queued = true;
      to_flush_.push_back(index);
    }
    // Credit used up: stop the multishot recv before it takes more buffers.
    size_t stashed = 0;
    for (auto& b : s.stash)
      stashed += b.size();
    if (stashed >= s.credit && s.recv_op != nullptr && !s.recv_cancel_sent) {
      s.recv_cancel_sent = true;
      auto* e = sqe();
      io_uring_prep_cancel(e, s.recv_op, 0);
      io_uring_sqe_set_data64(e, ignore_token);
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
    o->done += static_cast<size_t>(res);
    s.queued -= static_cast<size_t>(res);
    s.bytes_written += static_cast<uint64_t>(res);
    if (o->done < o->w.buf.size()) { // short send: the rest goes again
      auto* e = sqe();
      io_uring_prep_send(e, s.fd, o->w.buf.data() + o->done,
                         o->w.buf.size() - o->done, MSG_NOSIGNAL);
      io_uring_sqe_set_data(e, o);
      return;
    }
  }
  s.send_op = nullptr;
  --s.ops;
  if (res == -EINTR || res == -EAGAIN) {
    // Retry the same request: put it back at the head of the queue.
    s.wq.push_front(std::move(o->w));
    s.wq.front().buf.erase(s.wq.front().buf.begin(),
                           s.wq.front().buf.begin() + o->done);
    op_done(o);
    submit_send(index);
    return;
  }
  if (s.closing) {
    complete_write(s, id, o->w, o->done + std::max(res, 0),
                   s.close_reason ? s.close_reason
                                  : cancelled("write cancelled by close"));
    op_done(o);
    maybe_finish_close(index);
    return;
  }
  if (res < 0) {
    auto err = make_errno_error("send", -res);
    complete_write(s, id, o->w, o->done, err);
    op_done(o);
    fail(index, std::move(err));
    return;
  }
  complete_write(s, id, o->w, o->done, caf::error{});
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
    err = s.close_reason ? s.close_reason
                         : cancelled("shutdown cancelled by close");
  else if (res < 0)
    err = make_errno_error("shutdown", -res);
  if (o->w.rp.pending()) {
    if (err)
      o->w.rp.deliver(std::move(err));
    else
      o->w.rp.deliver(caf::unit);
  } else {
    deliver(s.owner, caf::make_message(
                       shutdown_completed{id, o->w.id, std::move(err)}));
  }
  op_done(o);
  if (s.closing)
    maybe_finish_close(index);
}

/// The socket is broken: fail what is queued, then close.
void uring_driver::fail(uint32_t index, caf::error err) {
  auto& s = slots_[index];
  auto id = id_of(index);
  while (!s.wq.empty()) {
    complete_write(s, id, s.wq.front(), 0, err);
    s.wq.pop_front();
  }
  if (s.shut) {
    auto w = std::move(*s.shut);
    s.shut.reset();
    if (w.rp.pending())
      w.rp.deliver(err);
    else
      deliver(s.owner, caf::make_message(shutdown_completed{id, w.id, err}));
  }
  if (!s.read_done) {
    s.read_done = true;
    s.read_error = err;
  }
  s.stash.clear();
  if (!s.read_reported && !s.listener) {
    s.read_reported = true;
    deliver(s.owner, caf::make_message(read_closed{id, err}));
  }
  begin_close(index, std::move(err));
}

/// Closing: queued requests complete with `cancelled` now; in-flight ones
/// are cancelled in the kernel and complete when their CQE arrives. The fd
/// is closed (IORING_OP_CLOSE) only after the last of them.
void uring_driver::begin_close(uint32_t index, caf::error reason) {
  auto& s = slots_[index];
  if (s.closing)
    return;
  auto id = id_of(index);
  s.closing = true;
  s.close_reason = std::move(reason);
  while (!s.wq.empty()) {
    complete_write(s, id, s.wq.front(), 0,
                   s.close_reason ? s.close_reason
                                  : cancelled("write cancelled by close"));
    s.wq.pop_front();
  }
  while (!s.dq.empty()) {
    complete_write(s, id, s.dq.front().w, 0,
                   s.close_reason ? s.close_reason
                                  : cancelled("send cancelled by close"));
    s.dq.pop_front();
  }
  if (s.shut) {
    auto w = std::move(*s.shut);
    s.shut.reset();
    auto err = s.close_reason ? s.close_reason
                              : cancelled("shutdown cancelled by close");
    if (w.rp.pending())
      w.rp.deliver(err);
    else
      deliver(s.owner, caf::make_message(shutdown_completed{id, w.id, err}));
  }
  if (s.accept_backoff) {
    s.accept_backoff = false;
    --backed_off_;
  }
  if (s.ops > 0) {
    auto* e = sqe();
    io_uring_prep_cancel_fd(e, s.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(e, ignore_token);
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
  deliver(owner, caf::make_message(connection_closed{id, std::move(reason)}));
  if (backed_off_ > 0)
    retry_backed_off_accepts();
}

void uring_driver::retry_backed_off_accepts() {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.fd >= 0 && s.accept_backoff && !s.closing) {
      s.accept_backoff = false;
      --backed_off_;
      ready_.push_back(i);
    }
  }
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
      io_uring_sqe_set_data64(e, ignore_token);
    }
    if (!f.closing) {
      f.closing = true;
      maybe_close_file(i);
    }
  }
  for (auto& kvp : timers_) {
    auto* e = sqe();
    io_uring_prep_timeout_remove(e, reinterpret_cast<uint64_t>(kvp.second), 0);
    io_uring_sqe_set_data64(e, ignore_token);
  }
  // Let the cancellations and closes run.
  for (int i = 0;
       i < 1000 && (slots_.live() > 0 || files_.live() > 0 || !timers_.empty());
       ++i)
    poll(std::chrono::milliseconds{10});
}

// -- timers -------------------------------------------------------------------

op_id uring_driver::start_timer(clock::duration delay,
                                caf::strong_actor_ptr owner) {
  auto id = next_timer_++;
  auto* o = new_op(op_kind::timer);
  o->id = id;
  o->owner = std::move(owner);
  o->ts = to_timespec(delay);
  timers_.emplace(id, o);
  auto* e = sqe();
  io_uring_prep_timeout(e, &o->ts, 0, 0);
  io_uring_sqe_set_data(e, o);
  return id;
}

bool uring_driver::cancel_timer(op_id id) {
  auto i = timers_.find(id);
  if (i == timers_.end() || i->second->cancelled)
    return false;
  i->second->cancelled = true;
  auto* e = sqe();
  io_uring_prep_timeout_remove(e, reinterpret_cast<uint64_t>(i->second), 0);
  io_uring_sqe_set_data64(e, ignore_token);
  return true;
}

void uring_driver::on_timer(op* o, int res) {
  if (o->owner) {
    timers_.erase(o->id);
    if (res == -ETIME && !o->cancelled)
      deliver(o->owner, caf::make_message(timer_expired{o->id}));
  } else if (auto* s = find(o->target); s && s->accept_backoff) {
    s->accept_backoff = false;
    --backed_off_;
    ready_.push_back(static_cast<uint32_t>(o->target));
  }
  op_done(o);
}

} // namespace actio
