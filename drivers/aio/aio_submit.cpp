// aio engine, part 2: read_at, write_at and sync_file as aiocbs, queued and
// submitted in lio_listio batches at the next `process()`, collected with
// aio_error/aio_return (all in flight, or the ones the notifier names) and
// delivered; cancel through aio_cancel.

#include "actio/drivers/aio/aio_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <caf/unit.hpp>

#include "actio/drivers/aio/aio_internal.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

/// Requests per lio_listio call: 64, or less where the platform says so
/// (POSIX AIO_LISTIO_MAX; glibc has no limit and answers -1).
size_t max_batch() {
  static const size_t n = [] {
    auto limit = ::sysconf(_SC_AIO_LISTIO_MAX);
    return limit > 0 ? std::min<size_t>(64, static_cast<size_t>(limit)) : 64;
  }();
  return n;
}

constexpr size_t batch_capacity = 64;

} // namespace

// -- AIO requests -------------------------------------------------------------

void aio_files::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                        caf::response_promise rp) {
  auto r = std::make_unique<aio_request>(aio_op::read, std::move(rp));
  r->id = id;
  r->len = len;
  if (admit(r, file, "read_at") == nullptr)
    return;
  auto& s = slots_[r->index];
  if (offset == stream_offset) {
    r->stream = true;
    // Seekable: our own position (a single read, advanced on completion).
    // A pipe: glibc's pread fails with ESPIPE and it falls back to read(2).
    offset = s.seekable ? s.pos : 0;
  }
  r->offset = offset;
  if (len == 0) {
    finish(std::move(r));
    return;
  }
  try {
    r->buf.resize(len);
  } catch (const std::bad_alloc&) {
    r->err = make_actio_error(errc::invalid_argument,
                              "read_at " + s.path + ": cannot allocate "
                                + std::to_string(len) + " bytes");
    finish(std::move(r));
    return;
  }
  queued_.push_back(std::move(r));
}

void aio_files::write_at(file_id file, uint64_t offset, byte_buffer buf,
                         op_id id, caf::response_promise rp) {
  auto r = std::make_unique<aio_request>(aio_op::write, std::move(rp));
  r->id = id;
  r->offset = offset;
  r->len = buf.size();
  r->buf = std::move(buf);
  if (admit(r, file, "write_at") == nullptr)
    return;
  if (r->len == 0) {
    finish(std::move(r));
    return;
  }
  queued_.push_back(std::move(r));
}

void aio_files::sync_file(file_id file, bool datasync,
                          caf::response_promise rp) {
  auto r = std::make_unique<aio_request>(aio_op::sync, std::move(rp));
  r->datasync = datasync;
  if (admit(r, file, datasync ? "fdatasync" : "fsync") == nullptr)
    return;
  queued_.push_back(std::move(r));
}

bool aio_files::cancel_file_op(op_id id) {
  auto is = [id](const request_ptr& r) {
    return r->op != aio_op::sync && r->id == id;
  };
  auto q = std::find_if(queued_.begin(), queued_.end(), is);
  if (q != queued_.end()) {
    auto r = std::move(*q);
    queued_.erase(q);
    r->err = cancelled_error(op_name(*r), slots_[r->index].path, "");
    finish(std::move(r));
    return true;
  }
  auto f = std::find_if(in_flight_.begin(), in_flight_.end(), is);
  if (f == in_flight_.end())
    return false;
  auto& r = **f;
  r.cancel_asked = true;
  // AIO_CANCELED: aio_error now says ECANCELED (and an exact notifier
  // announces it), the next collect completes it. AIO_NOTCANCELED /
  // AIO_ALLDONE: it completes with its real result.
  if (aio_cancel(r.cb.aio_fildes, &r.cb) == AIO_CANCELED)
    ++aio_counts.cancel_hits;
  return true;
}

// -- submission and completion ------------------------------------------------

void aio_files::submit_queued() {
  while (!queued_.empty()) {
    auto n = std::min(queued_.size(), max_batch());
    aiocb* list[batch_capacity];
    for (size_t i = 0; i < n; ++i) {
      auto& r = *queued_[i];
      auto& s = slots_[r.index];
      auto& cb = r.cb;
      std::memset(&cb, 0, sizeof(cb));
      cb.aio_fildes = s.fds[s.next_fd++ % s.fds.size()];
      cb.aio_offset = static_cast<off_t>(r.offset + r.done);
      cb.aio_buf = r.buf.data() + r.done;
      cb.aio_nbytes = r.len - r.done;
      r.serial = ++next_serial_;
      notifier_->arm(cb, reinterpret_cast<void*>(static_cast<uintptr_t>(r.serial)));
      switch (r.op) {
        case aio_op::read: cb.aio_lio_opcode = LIO_READ; break;
        case aio_op::write: cb.aio_lio_opcode = LIO_WRITE; break;
        case aio_op::sync: cb.aio_lio_opcode = LIO_NOP; break;
      }
      list[i] = &cb;
    }
    // fsync has no lio opcode: aio_fsync, one by one; the rest as a batch
    // (a list of their own: glibc may rewrite a queued aiocb's opcode).
    aiocb* batch[batch_capacity];
    size_t batched = 0;
    for (size_t i = 0; i < n; ++i) {
      auto& r = *queued_[i];
      if (r.op != aio_op::sync) {
        batch[batched++] = list[i];
        continue;
      }
      int rc = aio_fsync(r.datasync ? O_DSYNC : O_SYNC, &r.cb);
      if (rc < 0 && errno == EINVAL && r.datasync)
        rc = aio_fsync(O_SYNC, &r.cb); // no O_DSYNC (older FreeBSD): stronger
      if (rc < 0) {
        r.sys_err = errno;
        list[i] = nullptr; // not submitted: fails below
      }
    }
    bool batch_failed = false;
    if (batched > 0) {
      sigevent none{};
      none.sigev_notify = SIGEV_NONE;
      if (lio_listio(LIO_NOWAIT, batch, static_cast<int>(batched), &none) < 0)
        batch_failed = true;
      ++aio_counts.batches;
      aio_counts.submitted += batched;
      uint64_t size = batched;
      auto largest = aio_counts.largest_batch.load();
      while (largest < size
             && !aio_counts.largest_batch.compare_exchange_weak(largest, size))
        ; // retry
    }
    for (size_t i = 0; i < n; ++i) {
      auto& r = queued_[i];
      if (r->op == aio_op::sync && list[i] == nullptr) {
        finish(std::move(r));
        continue;
      }
      if (batch_failed && r->op != aio_op::sync) {
        // lio_listio enqueues what it can; an entry it could not enqueue
        // reports its own error (EAGAIN, ...) through aio_error, which the
        // scan turns into the reply (and no notification comes for it).
        // Only an entry never touched would still read 0 here: fail it
        // rather than report success.
        auto e = aio_error(&r->cb);
        if (e != EINPROGRESS && e != 0 && e != ECANCELED) {
          r->sys_err = e;
          finish(std::move(r));
          continue;
        }
      }
      r->pos = in_flight_.size();
      if (notifier_->exact())
        by_serial_.emplace(r->serial, r.get());
      in_flight_.push_back(std::move(r));
    }
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<long>(n));
  }
}

void aio_files::notified() {
  notifier_->drain(ready_);
}

/// Collects finished requests: the ones the notifier named, or every one in
/// flight when it cannot name them (and during shutdown).
void aio_files::collect() {
  if (notifier_->exact() && !stopping_) {
    // Names are serial numbers, never reused: a name of a request that is
    // gone (finished by a shutdown scan, parked, resubmitted) finds nothing.
    auto named = std::move(ready_);
    ready_.clear();
    for (auto* cookie : named) {
      auto i = by_serial_.find(static_cast<uint64_t>(
        reinterpret_cast<uintptr_t>(cookie)));
      if (i != by_serial_.end())
        check(i->second->pos);
    }
    return;
  }
  for (size_t i = 0; i < in_flight_.size();)
    if (!check(i))
      ++i;
}

/// Completes in-flight request `i` if it finished. Returns true when it
/// left `in_flight_` (its place is taken by the last one).
bool aio_files::check(size_t i) {
  auto& r = *in_flight_[i];
  auto e = aio_error(&r.cb);
  if (e == EINPROGRESS)
    return false;
  auto ret = aio_return(&r.cb); // frees the kernel's side (FreeBSD)
  if (notifier_->exact())
    by_serial_.erase(r.serial);
  auto ptr = std::move(in_flight_[i]);
  if (i + 1 < in_flight_.size()) {
    in_flight_[i] = std::move(in_flight_.back());
    in_flight_[i]->pos = i;
  }
  in_flight_.pop_back();
  if (e == ECANCELED) {
    ptr->err = cancelled_error(op_name(*ptr), slots_[ptr->index].path,
                               stopping_ ? " (shutdown)" : "");
    finish(std::move(ptr));
    return true;
  }
  if (e != 0) {
    ptr->sys_err = e;
    finish(std::move(ptr));
    return true;
  }
  if (ptr->op == aio_op::sync) {
    finish(std::move(ptr));
    return true;
  }
  auto n = static_cast<size_t>(ret);
  ptr->done += n;
  bool more = !ptr->stream && ptr->done < ptr->len && n > 0;
  if (ptr->op == aio_op::write && n == 0 && ptr->done < ptr->len)
    ptr->sys_err = EIO; // no progress: report rather than spin
  if (more && !stopping_ && !ptr->cancel_asked) {
    queued_.push_back(std::move(ptr)); // the rest: a short transfer
    return true;
  }
  if (more)
    ptr->err = cancelled_error(op_name(*ptr), slots_[ptr->index].path,
                               stopping_ ? " (shutdown)" : "");
  finish(std::move(ptr));
  return true;
}

void aio_files::finish(request_ptr r) {
  done_.push_back(std::move(r));
}

void aio_files::deliver(request& r) {
  caf::error err = std::move(r.err);
  if (!err && r.sys_err != 0 && r.counted)
    err = make_path_error(op_name(r), slots_[r.index].path, r.sys_err);
  switch (r.op) {
    case aio_op::read:
      if (!err && r.stream && r.counted && slots_[r.index].seekable)
        slots_[r.index].pos += r.done;
      r.buf.resize(err ? 0 : r.done);
      reply(r.rp, err, std::move(r.buf));
      break;
    case aio_op::write:
      reply(r.rp, err, uint64_t{r.done});
      break;
    case aio_op::sync:
      reply(r.rp, err, caf::unit);
      break;
  }
  if (r.counted) {
    --slots_[r.index].in_flight;
    done_with(r.index);
  }
}

} // namespace actio
