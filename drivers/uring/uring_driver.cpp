// io_uring backend, part 1: probe, ring setup, the wake-up, the loop's two
// calls with the CQE dispatch, and the socket registry. The other parts:
// uring_streams.cpp, uring_datagrams.cpp, uring_close.cpp, uring_timers.cpp,
// uring_files.cpp.

#include "actio/drivers/uring/uring_driver.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/uring/uring_internal.hpp"
#include "actio/drivers/uring/uring_op.hpp"

namespace actio {

namespace {

constexpr unsigned ring_entries = 1024;
// Completions of one turn: a multishot recv per connection may complete
// before the driver reaps; a CQ too small for that overflows into the
// kernel's slow list.
constexpr unsigned cq_entries = 16384;

// (IORING_OP_TIMEOUT: the wait's timeout, on kernels without EXT_ARG.)
const int used_opcodes[] = {
  IORING_OP_READ,   IORING_OP_WRITE,  IORING_OP_ACCEPT,        IORING_OP_RECV,
  IORING_OP_SEND,   IORING_OP_SHUTDOWN, IORING_OP_CLOSE,       IORING_OP_OPENAT,
  IORING_OP_FSYNC,  IORING_OP_STATX,  IORING_OP_ASYNC_CANCEL,  IORING_OP_TIMEOUT,
  IORING_OP_PROVIDE_BUFFERS, IORING_OP_RECVMSG,
  IORING_OP_SENDMSG,
};

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
  // The provided buffers: at the first stream recv (arm_recv).
  arm_wake();
  return caf::none;
}

uring_driver::~uring_driver() {
  if (ring_ok_) {
    close_all();
    // Reap until the kernel gave back every operation's storage.
    stopping_ = true;
    for (int i = 0; i < 1000 && live_ops_ != 0; ++i) {
      io_uring_sqe* s = io_uring_get_sqe(&ring_);
      if (s != nullptr) {
        io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data64(s, detail::uring_ignore_token);
      }
      poll(std::chrono::milliseconds{10});
    }
    bufs_.unregister(ring_);
    io_uring_queue_exit(&ring_);
  }
  // The kernel holds nothing now (or never did): free the pooled ops.
  for (auto* list : {live_, free_})
    while (list != nullptr)
      delete std::exchange(list, list->next);
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

namespace {

// Enough for the sends and recvs of a busy loop turn; a burst beyond it
// goes back to the heap.
constexpr size_t max_free_ops = 4096;

} // namespace

uring_driver::op* uring_driver::new_op(op_kind kind) {
  op* o;
  if (free_ != nullptr) {
    o = std::exchange(free_, free_->next);
    --free_ops_;
    o->reset(kind);
  } else {
    o = new op;
    o->kind = kind;
  }
  o->prev = nullptr;
  o->next = live_;
  if (live_ != nullptr)
    live_->prev = o;
  live_ = o;
  ++live_ops_;
  return o;
}

void uring_driver::op_done(op* o) {
  if (o->prev != nullptr)
    o->prev->next = o->next;
  else
    live_ = o->next;
  if (o->next != nullptr)
    o->next->prev = o->prev;
  --live_ops_;
  if (free_ops_ >= max_free_ops) {
    delete o;
    return;
  }
  // Drop what the op still holds (a promise, an actor, a buffer) now.
  o->reset(op_kind::wake);
  o->prev = nullptr;
  o->next = free_;
  free_ = o;
  ++free_ops_;
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
  timeout = wait_limit(timeout); // no later than the earliest timer
  if (timeout && *timeout <= clock::duration::zero()) {
    // Not plain io_uring_submit: with COOP_TASKRUN, completions wait as task
    // work until we enter the kernel asking for events. A busy loop that
    // never blocks would otherwise see its CQEs late.
    rc = io_uring_submit_and_get_events(&ring_);
  } else if (timeout) {
    auto ts = detail::to_timespec(*timeout);
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
  fire_timers();
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
  // LIBURING_UDATA_TIMEOUT: the wait's own timeout SQE, which liburing adds
  // on kernels without IORING_FEAT_EXT_ARG; not an op of ours.
  if (token == detail::uring_ignore_token || token == LIBURING_UDATA_TIMEOUT)
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
    case op_kind::recv_owned:
      on_recv_owned(o, res);
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
  s.wq.limits = limits;
  return id_of(index);
}

} // namespace actio
