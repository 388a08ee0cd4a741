#include "actio/drivers/aio/aio_files.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/unit.hpp>

#include "actio/actors/errc.hpp"
#include "actio/drivers/aio/aio_signal.hpp"

namespace actio {

namespace detail {

enum class aio_op : uint8_t { read, write, sync };

/// One read/write/fsync from request to delivery. `cb` points into `buf`;
/// both stay put (the request is heap-allocated) until aio_error reports
/// that glibc is done with them.
struct aio_request {
  aio_request(aio_op kind, caf::response_promise promise)
    : op(kind), rp(std::move(promise)) {
  }

  aio_op op;
  caf::response_promise rp;
  aiocb cb{};
  uint32_t index = 0;    ///< slot counting this request in `in_flight`
  bool counted = false;  ///< `index` valid
  op_id id = 0;
  uint64_t offset = 0;   ///< where `buf` starts in the file
  size_t len = 0;
  size_t done = 0;       ///< bytes read/written so far
  bool stream = false;   ///< read at the current position
  bool datasync = false;
  bool cancel_asked = false;
  byte_buffer buf;
  int sys_err = 0;
  caf::error err;        ///< why it never ran, or cancelled
};

} // namespace detail

namespace {

using detail::aio_op;
using detail::aio_request;

constexpr size_t max_batch = 64;

struct atomic_counters {
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> submitted{0};
  std::atomic<uint64_t> largest_batch{0};
  std::atomic<uint64_t> cancel_hits{0};
};

atomic_counters counters;

const char* op_name(const aio_request& r) {
  switch (r.op) {
    case aio_op::read: return "read_at";
    case aio_op::write: return "write_at";
    case aio_op::sync: return r.datasync ? "fdatasync" : "fsync";
  }
  return "file";
}

caf::error closed_error(const char* what, const std::string& name) {
  return make_actio_error(errc::closed, std::string{what} + ": file is closed ("
                                          + name + ")");
}

caf::error cancelled_error(const char* what, const std::string& path,
                           const char* why) {
  std::string text = what;
  text.append(" ").append(path).append(": cancelled").append(why);
  return make_actio_error(errc::cancelled, std::move(text));
}

template <class T>
void reply(caf::response_promise& rp, caf::error& err, T&& value) {
  if (!rp.pending())
    return;
  if (err)
    rp.deliver(std::move(err));
  else
    rp.deliver(std::forward<T>(value));
}

} // namespace

std::atomic<uint64_t> aio_wakeups{0}; // aio_driver.cpp counts signalfd reads

aio_counters aio_stats() noexcept {
  aio_counters result;
  result.batches = counters.batches.load();
  result.submitted = counters.submitted.load();
  result.largest_batch = counters.largest_batch.load();
  result.cancel_hits = counters.cancel_hits.load();
  result.wakeups = aio_wakeups.load();
  return result;
}

// -- construction -------------------------------------------------------------

aio_files::aio_files(aio_options opts) : opts_(opts) {
  opts_.fds_per_file = std::clamp<size_t>(opts_.fds_per_file, 1, 64);
  static std::once_flag init_once;
  std::call_once(init_once, [this] {
    aioinit init{};
    init.aio_threads = static_cast<int>(std::clamp<size_t>(opts_.threads, 1, 1024));
    init.aio_num = static_cast<int>(std::clamp<size_t>(opts_.num, 1, 65536));
    init.aio_idle_time = 1;
    aio_init(&init);
  });
  block_aio_signal();
}

aio_files::~aio_files() {
  shutdown();
}

// -- file table ---------------------------------------------------------------

file_id aio_files::id_of(uint32_t index) const noexcept {
  return (uint64_t{slots_[index].gen} << 32) | index;
}

aio_files::slot* aio_files::find(file_id file) noexcept {
  auto index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  auto gen = static_cast<uint32_t>(file >> 32);
  if (index >= slots_.size())
    return nullptr;
  auto& s = slots_[index];
  return !s.fds.empty() && !s.closing && s.gen == gen ? &s : nullptr;
}

std::string aio_files::name_of(file_id file) const {
  auto index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  auto gen = static_cast<uint32_t>(file >> 32);
  if (index < slots_.size() && !slots_[index].path.empty()
      && (slots_[index].gen == gen || slots_[index].gen == gen + 1))
    return slots_[index].path;
  return "file " + std::to_string(file);
}

/// Counts `r` against `file`'s slot, or fails it with errc::closed (the
/// request then goes straight to the done list). Returns the slot's index
/// holder on success.
aio_request* aio_files::admit(request_ptr& r, file_id file, const char* what) {
  auto* s = find(file);
  if (s == nullptr) {
    r->err = closed_error(what, name_of(file));
    done_.push_back(std::move(r));
    return nullptr;
  }
  r->index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  r->counted = true;
  ++s->in_flight;
  return r.get();
}

void aio_files::close_slot(uint32_t index, caf::error* err) {
  auto& s = slots_[index];
  for (auto fd : s.fds)
    if (::close(fd) < 0 && err != nullptr && !*err && errno != EINTR)
      *err = make_path_error("close", s.path, errno);
  s.fds.clear();
  s.closing = false;
  ++s.gen;
  free_.push_back(index);
  --live_;
}

// -- synchronous requests -----------------------------------------------------

void aio_files::open_file(std::string path, int flags, unsigned mode,
                          caf::response_promise rp) {
  int fd;
  do
    fd = ::openat(AT_FDCWD, path.c_str(), flags | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    auto err = make_path_error("open", path, errno);
    later_.emplace_back([rp, err]() mutable { rp.deliver(std::move(err)); });
    return;
  }
  if (!rp.pending()) {
    ::close(fd); // nobody can learn the id
    return;
  }
  std::vector<int> fds{fd};
  for (size_t i = 1; i < opts_.fds_per_file; ++i) {
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
      break; // fewer descriptors only means less parallelism
    fds.push_back(dup);
  }
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto& s = slots_[index];
  s.fds = std::move(fds);
  s.closing = false;
  s.in_flight = 0;
  s.next_fd = 0;
  s.path = std::move(path);
  auto pos = ::lseek(fd, 0, SEEK_CUR);
  s.seekable = pos >= 0;
  s.pos = pos >= 0 ? static_cast<uint64_t>(pos) : 0;
  ++live_;
  later_.emplace_back([rp, id = id_of(index)]() mutable { rp.deliver(id); });
}

void aio_files::stat_file(file_id file, caf::response_promise rp) {
  auto* s = find(file);
  caf::error err;
  uint64_t size = 0;
  if (s == nullptr) {
    err = closed_error("fstat", name_of(file));
  } else {
    struct stat st {};
    if (::fstat(s->fds.front(), &st) < 0)
      err = make_path_error("fstat", s->path, errno);
    else
      size = static_cast<uint64_t>(st.st_size);
  }
  later_.emplace_back([rp, err, size]() mutable { reply(rp, err, size); });
}

void aio_files::close_file(file_id file, caf::response_promise rp) {
  auto* s = find(file);
  if (s == nullptr) {
    auto err = closed_error("close", name_of(file));
    later_.emplace_back([rp, err]() mutable { rp.deliver(std::move(err)); });
    return;
  }
  s->closing = true;
  s->close_rp = std::move(rp);
  auto index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  done_with(index);
}

/// Closes slot `index` when it is closing and nothing uses it any more.
void aio_files::done_with(uint32_t index) {
  auto& s = slots_[index];
  if (!s.closing || s.in_flight > 0)
    return;
  auto rp = std::move(s.close_rp);
  caf::error err;
  close_slot(index, &err);
  later_.emplace_back([rp, err]() mutable { reply(rp, err, caf::unit); });
}

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

bool aio_files::cancel(op_id id) {
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
  // AIO_CANCELED: aio_error now says ECANCELED, the next scan completes it.
  // AIO_NOTCANCELED / AIO_ALLDONE: it completes with its real result.
  if (aio_cancel(r.cb.aio_fildes, &r.cb) == AIO_CANCELED)
    ++counters.cancel_hits;
  return true;
}

// -- submission and completion ------------------------------------------------

void aio_files::submit_queued() {
  while (!queued_.empty()) {
    auto n = std::min(queued_.size(), max_batch);
    aiocb* list[max_batch];
    for (size_t i = 0; i < n; ++i) {
      auto& r = *queued_[i];
      auto& s = slots_[r.index];
      auto& cb = r.cb;
      std::memset(&cb, 0, sizeof(cb));
      cb.aio_fildes = s.fds[s.next_fd++ % s.fds.size()];
      cb.aio_offset = static_cast<off_t>(r.offset + r.done);
      cb.aio_buf = r.buf.data() + r.done;
      cb.aio_nbytes = r.len - r.done;
      cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
      cb.aio_sigevent.sigev_signo = aio_signal();
      cb.aio_sigevent.sigev_value.sival_ptr = &r;
      switch (r.op) {
        case aio_op::read: cb.aio_lio_opcode = LIO_READ; break;
        case aio_op::write: cb.aio_lio_opcode = LIO_WRITE; break;
        case aio_op::sync: cb.aio_lio_opcode = LIO_NOP; break;
      }
      list[i] = &cb;
    }
    // fsync has no lio opcode: aio_fsync, one by one; the rest as a batch
    // (a list of their own: glibc may rewrite a queued aiocb's opcode).
    aiocb* batch[max_batch];
    size_t batched = 0;
    for (size_t i = 0; i < n; ++i) {
      auto& r = *queued_[i];
      if (r.op != aio_op::sync) {
        batch[batched++] = list[i];
        continue;
      }
      if (aio_fsync(r.datasync ? O_DSYNC : O_SYNC, &r.cb) < 0) {
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
      ++counters.batches;
      counters.submitted += batched;
      uint64_t size = batched;
      auto largest = counters.largest_batch.load();
      while (largest < size
             && !counters.largest_batch.compare_exchange_weak(largest, size))
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
        // scan turns into the reply. Only an entry glibc never touched
        // would still read 0 here: fail it rather than report success.
        auto e = aio_error(&r->cb);
        if (e != EINPROGRESS && e != 0 && e != ECANCELED) {
          r->sys_err = e;
          finish(std::move(r));
          continue;
        }
      }
      in_flight_.push_back(std::move(r));
    }
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<long>(n));
  }
}

/// Scans every in-flight request (a signal may stand for many).
void aio_files::collect() {
  for (size_t i = 0; i < in_flight_.size();) {
    auto& r = *in_flight_[i];
    auto e = aio_error(&r.cb);
    if (e == EINPROGRESS) {
      ++i;
      continue;
    }
    auto ret = aio_return(&r.cb);
    auto ptr = std::move(in_flight_[i]);
    in_flight_[i] = std::move(in_flight_.back());
    in_flight_.pop_back();
    if (e == ECANCELED) {
      ptr->err = cancelled_error(op_name(*ptr), slots_[ptr->index].path,
                                 stopping_ ? " (shutdown)" : "");
      finish(std::move(ptr));
      continue;
    }
    if (e != 0) {
      ptr->sys_err = e;
      finish(std::move(ptr));
      continue;
    }
    if (ptr->op == aio_op::sync) {
      finish(std::move(ptr));
      continue;
    }
    auto n = static_cast<size_t>(ret);
    ptr->done += n;
    bool more = !ptr->stream && ptr->done < ptr->len && n > 0;
    if (ptr->op == aio_op::write && n == 0 && ptr->done < ptr->len)
      ptr->sys_err = EIO; // no progress: report rather than spin
    if (more && !stopping_ && !ptr->cancel_asked) {
      queued_.push_back(std::move(ptr)); // the rest: a short transfer
      continue;
    }
    if (more)
      ptr->err = cancelled_error(op_name(*ptr), slots_[ptr->index].path,
                                 stopping_ ? " (shutdown)" : "");
    finish(std::move(ptr));
  }
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

bool aio_files::process() {
  submit_queued();
  collect();
  size_t delivered = 0;
  while (!done_.empty() || !later_.empty()) {
    while (!done_.empty()) {
      auto r = std::move(done_.front());
      done_.pop_front();
      deliver(*r);
      ++delivered;
    }
    while (!later_.empty()) {
      auto f = std::move(later_.front());
      later_.pop_front();
      f();
    }
  }
  // Short transfers re-queued by `collect` go out on the next call.
  return !queued_.empty();
}

void aio_files::shutdown() {
  stopping_ = true;
  for (auto& r : queued_)
    r->err = cancelled_error(op_name(*r), slots_[r->index].path, " (shutdown)");
  for (auto& r : queued_)
    done_.push_back(std::move(r));
  queued_.clear();
  for (auto& r : in_flight_)
    aio_cancel(r->cb.aio_fildes, &r->cb);
  // Whatever glibc could not cancel is running: wait for it, one request
  // at a time (aio_suspend copies its list onto the stack).
  for (;;) {
    collect();
    if (in_flight_.empty())
      break;
    const aiocb* first = &in_flight_.front()->cb;
    timespec limit{0, 100'000'000};
    aio_suspend(&first, 1, &limit);
  }
  process(); // delivers; `stopping_` keeps short transfers from resubmitting
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (s.fds.empty())
      continue;
    auto rp = std::move(s.close_rp);
    caf::error err;
    close_slot(i, &err);
    reply(rp, err, caf::unit);
  }
  stopping_ = false;
}

} // namespace actio
