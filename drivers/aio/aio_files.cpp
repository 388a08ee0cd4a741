#include "actio/drivers/aio/aio_files.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/unit.hpp>

#include "actio/drivers/errc.hpp"

namespace actio {

namespace detail {

enum class aio_op : uint8_t { read, write, sync };

/// One read/write/fsync from request to delivery. `cb` points into `buf`;
/// both stay put (the request is heap-allocated) until aio_error reports
/// that the AIO implementation is done with them.
struct aio_request {
  aio_request(aio_op kind, caf::response_promise promise)
    : op(kind), rp(std::move(promise)) {
  }

  aio_op op;
  caf::response_promise rp;
  aiocb cb{};
  uint32_t index = 0;    ///< slot counting this request in `in_flight`
  bool counted = false;  ///< `index` valid
  size_t pos = 0;        ///< where it sits in `in_flight_`
  uint64_t serial = 0;   ///< names this submission to an exact notifier
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

enum class aio_call_kind : uint8_t { open, stat, close };

/// One open/fstat/close on a helper thread (blocking_pool.hpp). `run`
/// writes only the outcome; the engine (driver thread) owns `rp` and reads
/// the outcome only in `complete`, so an abandoned call (still running at
/// shutdown) can be answered while its worker finishes it.
struct aio_call final : blocking_job {
  static constexpr uint32_t no_slot = ~uint32_t{0};

  aio_call(aio_files* owner, aio_call_kind k, caf::response_promise promise)
    : engine(owner), kind(k), rp(std::move(promise)) {
  }

  void run() noexcept override;

  void complete() override {
    engine->complete_call(*this);
  }

  /// Shutdown answered this open already: nobody learns the descriptors.
  void discard() noexcept override {
    if (kind == aio_call_kind::open)
      for (auto fd : fds)
        ::close(fd);
  }

  aio_files* engine;        ///< driver thread only
  aio_call_kind kind;
  caf::response_promise rp; ///< driver thread only

  // Arguments.
  uint32_t index = no_slot; ///< stat/close: the slot (stat counts in it)
  std::string path;         ///< open
  int flags = 0;
  unsigned mode = 0;
  size_t copies = 1;        ///< open: descriptors wanted (1 + dups)
  int fd = -1;              ///< stat: the slot's first descriptor
  caf::error err;           ///< answered without running (driver thread)

  // Outcome; close: `fds` is the input (owned by the call).
  std::vector<int> fds;     ///< open: the descriptor and its dups
  bool seekable = true;     ///< open: lseek works
  uint64_t pos = 0;         ///< open: the current position
  uint64_t size = 0;        ///< stat
  int sys_err = 0;
};

void aio_call::run() noexcept {
  switch (kind) {
    case aio_call_kind::open: {
      int first;
      do
        first = ::openat(AT_FDCWD, path.c_str(), flags | O_CLOEXEC,
                         static_cast<mode_t>(mode));
      while (first < 0 && errno == EINTR);
      if (first < 0) {
        sys_err = errno;
        return;
      }
      try {
        fds.reserve(copies);
        fds.push_back(first);
        for (size_t i = 1; i < copies; ++i) {
          int dup = ::fcntl(first, F_DUPFD_CLOEXEC, 0);
          if (dup < 0)
            break; // fewer descriptors only means less parallelism
          fds.push_back(dup);
        }
      } catch (const std::bad_alloc&) {
        for (auto x : fds)
          ::close(x);
        if (fds.empty())
          ::close(first);
        fds.clear();
        sys_err = ENOMEM;
        return;
      }
      auto at = ::lseek(first, 0, SEEK_CUR);
      seekable = at >= 0;
      pos = at >= 0 ? static_cast<uint64_t>(at) : 0;
      return;
    }
    case aio_call_kind::stat: {
      struct stat st {};
      if (::fstat(fd, &st) < 0)
        sys_err = errno;
      else
        size = static_cast<uint64_t>(st.st_size);
      return;
    }
    case aio_call_kind::close:
      // The descriptor is gone after close(2) whatever it returns; EINTR
      // is no failure worth reporting (retrying could close a reused one).
      for (auto x : fds)
        if (::close(x) < 0 && sys_err == 0 && errno != EINTR)
          sys_err = errno;
      fds.clear();
      return;
  }
}

} // namespace detail

aio_notifier::~aio_notifier() = default;

namespace {

using detail::aio_call;
using detail::aio_call_kind;
using detail::aio_op;
using detail::aio_request;

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

struct atomic_counters {
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> submitted{0};
  std::atomic<uint64_t> largest_batch{0};
  std::atomic<uint64_t> cancel_hits{0};
  std::atomic<uint64_t> parked{0};
};

atomic_counters counters;

// -- parked requests ----------------------------------------------------------
//
// A request the AIO implementation neither cancels nor finishes (a read of
// a FIFO nobody writes to, a hung network mount) cannot be waited for at
// shutdown, and its aiocb, buffer and descriptor cannot be freed either:
// the kernel or glibc's thread may still write into them. Shutdown answers
// it (errc::cancelled) and parks it here; a reaper thread, running only
// while something is parked, waits for parked requests (aio_suspend), then
// calls aio_return, frees them and closes their descriptors.

/// A descriptor taken from a slot for parked requests; closed by the last.
struct parked_fd {
  explicit parked_fd(int x) : fd(x) {
  }
  ~parked_fd() {
    ::close(fd);
  }
  parked_fd(const parked_fd&) = delete;
  parked_fd& operator=(const parked_fd&) = delete;
  int fd;
};

struct parked_request {
  std::unique_ptr<aio_request> req;
  std::shared_ptr<parked_fd> fd;
};

struct parking {
  std::mutex mtx;
  std::vector<parked_request> entries;
  bool reaper_running = false;
};

/// Never destroyed: a parked request may still be written to while the
/// process exits (and stays reachable, so leak checkers stay quiet).
parking& parked() {
  static auto* instance = new parking;
  return *instance;
}

void reap_parked() {
  auto& p = parked();
  constexpr size_t max_wait = 64;
  for (;;) {
    std::vector<parked_request> finished;
    const aiocb* waiting[max_wait];
    size_t n = 0;
    {
      std::lock_guard<std::mutex> guard{p.mtx};
      for (size_t i = 0; i < p.entries.size();) {
        auto& cb = p.entries[i].req->cb;
        if (aio_error(&cb) == EINPROGRESS) {
          if (n < max_wait)
            waiting[n++] = &cb;
          ++i;
          continue;
        }
        aio_return(&cb);
        finished.push_back(std::move(p.entries[i]));
        p.entries[i] = std::move(p.entries.back());
        p.entries.pop_back();
      }
      counters.parked = p.entries.size();
      if (p.entries.empty()) {
        p.reaper_running = false;
        return; // `finished` goes with its descriptors
      }
    }
    finished.clear();
    // Only this thread frees parked requests: `waiting` stays valid. New
    // ones parked meanwhile are seen within a second.
    timespec limit{1, 0};
    aio_suspend(waiting, static_cast<int>(n), &limit);
  }
}

void park(std::vector<parked_request> batch) {
  auto& p = parked();
  std::lock_guard<std::mutex> guard{p.mtx};
  for (auto& x : batch)
    p.entries.push_back(std::move(x));
  counters.parked = p.entries.size();
  if (p.reaper_running || p.entries.empty())
    return;
  try {
    std::thread{reap_parked}.detach();
    p.reaper_running = true;
  } catch (const std::system_error&) {
    // No thread: the requests stay parked (memory and descriptors held
    // until the process ends), which is still safe.
  }
}

/// Without progress for this long, shutdown parks what is still running.
constexpr std::chrono::seconds shutdown_grace{1};

const char* op_name(const aio_request& r) {
  switch (r.op) {
    case aio_op::read: return "read_at";
    case aio_op::write: return "write_at";
    case aio_op::sync: return r.datasync ? "fdatasync" : "fsync";
  }
  return "file";
}

const char* call_name(const aio_call& c) {
  switch (c.kind) {
    case aio_call_kind::open: return "open";
    case aio_call_kind::stat: return "fstat";
    case aio_call_kind::close: return "close";
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

std::atomic<uint64_t> aio_wakeups{0}; // counted by the Linux notifier

aio_counters aio_stats() noexcept {
  aio_counters result;
  result.batches = counters.batches.load();
  result.submitted = counters.submitted.load();
  result.largest_batch = counters.largest_batch.load();
  result.cancel_hits = counters.cancel_hits.load();
  result.wakeups = aio_wakeups.load();
  result.parked = counters.parked.load();
  return result;
}

// -- construction -------------------------------------------------------------

aio_files::aio_files(aio_options opts, std::unique_ptr<aio_notifier> notifier,
                     std::function<void()> wake)
  : opts_(opts),
    notifier_(std::move(notifier)),
    helpers_(wake, std::clamp<size_t>(opts.helper_threads, 1, 64)) {
  notifier_->attach(std::move(wake));
  opts_.fds_per_file = std::clamp<size_t>(opts_.fds_per_file, 1, 64);
  init_aio_runtime(opts_);
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
  return s.taken && !s.closing && s.gen == gen ? &s : nullptr;
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

/// The slot's descriptors are closed (or a close call owns them): ids of it
/// go stale, the index may be reused.
void aio_files::free_slot(uint32_t index) {
  auto& s = slots_[index];
  s.fds.clear();
  s.taken = false;
  s.closing = false;
  s.close_started = false;
  s.close_rp = caf::response_promise{};
  ++s.gen;
  free_.push_back(index);
  --live_;
}

/// Closes the slot's descriptors on this thread (shutdown only).
void aio_files::close_slot(uint32_t index, caf::error* err) {
  auto& s = slots_[index];
  for (auto fd : s.fds)
    if (::close(fd) < 0 && err != nullptr && !*err && errno != EINTR)
      *err = make_path_error("close", s.path, errno);
  free_slot(index);
}

// -- open, fstat, close: helper threads ---------------------------------------

void aio_files::submit_call(call_ptr c) {
  if (helpers_.submit(c))
    return;
  // Not even one helper thread could start: fail this call.
  c->err = make_path_error(call_name(*c),
                           c->kind == aio_call_kind::open
                             ? c->path
                             : slots_[c->index].path,
                           EAGAIN);
  if (c->kind == aio_call_kind::close) {
    // The descriptors are the call's now: close them here rather than leak.
    c->run();
    c->err = caf::error{};
  }
  later_.push_back(std::move(c));
}

void aio_files::open_file(std::string path, int flags, unsigned mode,
                          caf::response_promise rp) {
  auto c = std::make_shared<call>(this, aio_call_kind::open, std::move(rp));
  c->path = std::move(path);
  c->flags = flags;
  c->mode = mode;
  c->copies = opts_.fds_per_file;
  submit_call(std::move(c));
}

void aio_files::stat_file(file_id file, caf::response_promise rp) {
  auto c = std::make_shared<call>(this, aio_call_kind::stat, std::move(rp));
  auto* s = find(file);
  if (s == nullptr) {
    c->err = closed_error("fstat", name_of(file));
    later_.push_back(std::move(c));
    return;
  }
  c->index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  c->fd = s->fds.front();
  ++s->in_flight; // a close waits for it
  submit_call(std::move(c));
}

void aio_files::close_file(file_id file, caf::response_promise rp) {
  auto* s = find(file);
  if (s == nullptr) {
    auto c = std::make_shared<call>(this, aio_call_kind::close, std::move(rp));
    c->err = closed_error("close", name_of(file));
    later_.push_back(std::move(c));
    return;
  }
  s->closing = true;
  s->close_rp = std::move(rp);
  done_with(static_cast<uint32_t>(file & 0xFFFFFFFFu));
}

/// Starts the close of slot `index` when it is closing and nothing uses it
/// any more.
void aio_files::done_with(uint32_t index) {
  auto& s = slots_[index];
  if (s.closing && !s.close_started && s.in_flight == 0)
    start_close(index);
}

/// Hands the slot's descriptors to a close call. The slot stays taken (its
/// id unchanged, `find` failing) until the close is delivered. During
/// shutdown the close runs here, delivered by the same shutdown.
void aio_files::start_close(uint32_t index) {
  auto& s = slots_[index];
  auto c = std::make_shared<call>(this, aio_call_kind::close,
                                  std::move(s.close_rp));
  c->index = index;
  c->fds = std::move(s.fds);
  s.fds.clear();
  s.close_started = true;
  if (stopping_) {
    c->run();
    later_.push_back(std::move(c));
    return;
  }
  submit_call(std::move(c));
}

/// Delivers a call's outcome (driver thread): from the helpers' drain, or
/// from `later_` for calls answered without running.
void aio_files::complete_call(call& c) {
  caf::error err = std::move(c.err);
  if (!err && c.sys_err != 0)
    err = make_path_error(call_name(c),
                          c.kind == aio_call_kind::open
                            ? c.path
                            : slots_[c.index].path,
                          c.sys_err);
  switch (c.kind) {
    case aio_call_kind::open: {
      if (err) {
        reply(c.rp, err, file_id{0});
        return;
      }
      if (!c.rp.pending()) {
        for (auto fd : c.fds) // nobody can learn the id
          ::close(fd);
        c.fds.clear();
        return;
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
      s.fds = std::move(c.fds);
      c.fds.clear();
      s.taken = true;
      s.closing = false;
      s.close_started = false;
      s.in_flight = 0;
      s.next_fd = 0;
      s.path = std::move(c.path);
      s.seekable = c.seekable;
      s.pos = c.pos;
      ++live_;
      c.rp.deliver(id_of(index));
      return;
    }
    case aio_call_kind::stat:
      reply(c.rp, err, uint64_t{c.size});
      if (c.index != aio_call::no_slot) {
        --slots_[c.index].in_flight;
        done_with(c.index);
      }
      return;
    case aio_call_kind::close:
      if (c.index != aio_call::no_slot)
        free_slot(c.index);
      reply(c.rp, err, caf::unit);
      return;
  }
}

/// Shutdown found `c` running on a helper thread: answers it without
/// touching its outcome (the helper still writes it) and settles its slot.
void aio_files::answer_abandoned(call& c) {
  const auto& path = c.kind == aio_call_kind::open ? c.path
                                                    : slots_[c.index].path;
  auto err = cancelled_error(call_name(c), path, " (shutdown while it ran)");
  if (c.rp.pending())
    c.rp.deliver(std::move(err));
  switch (c.kind) {
    case aio_call_kind::open:
      return; // its helper closes what it opens (discard)
    case aio_call_kind::stat:
      // The slot's descriptors are closed by this shutdown: an fstat that
      // has not started yet may then see EBADF or a reused number; its
      // result is dropped and fstat changes nothing.
      --slots_[c.index].in_flight;
      done_with(c.index);
      return;
    case aio_call_kind::close:
      free_slot(c.index); // the helper closes the descriptors
      return;
  }
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
  // AIO_CANCELED: aio_error now says ECANCELED (and an exact notifier
  // announces it), the next collect completes it. AIO_NOTCANCELED /
  // AIO_ALLDONE: it completes with its real result.
  if (aio_cancel(r.cb.aio_fildes, &r.cb) == AIO_CANCELED)
    ++counters.cancel_hits;
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

bool aio_files::process() {
  submit_queued();
  collect();
  helpers_.drain(); // open/fstat/close results (complete_call)
  while (!done_.empty() || !later_.empty()) {
    while (!done_.empty()) {
      auto r = std::move(done_.front());
      done_.pop_front();
      deliver(*r);
    }
    while (!later_.empty()) {
      auto c = std::move(later_.front());
      later_.pop_front();
      complete_call(*c);
    }
  }
  // Short transfers re-queued by `collect` go out on the next call.
  return !queued_.empty();
}

std::optional<std::chrono::milliseconds> aio_files::max_sleep() const noexcept {
  if (in_flight_.empty())
    return std::nullopt;
  return notifier_->rescan_interval();
}

/// Shutdown: the requests still in flight neither finish nor cancel. Each
/// is answered now and parked (see "parked requests" above) together with
/// its descriptor, which leaves its slot so that closing the file does not
/// close it under the running call.
void aio_files::park_in_flight() {
  std::vector<parked_request> batch;
  std::vector<std::pair<int, std::shared_ptr<parked_fd>>> taken;
  std::vector<uint32_t> touched;
  for (auto& ptr : in_flight_) {
    auto& r = *ptr;
    auto& s = slots_[r.index];
    auto fd = r.cb.aio_fildes;
    std::shared_ptr<parked_fd> holder;
    for (auto& [x, h] : taken)
      if (x == fd)
        holder = h;
    if (holder == nullptr) {
      auto i = std::find(s.fds.begin(), s.fds.end(), fd);
      if (i != s.fds.end()) {
        s.fds.erase(i);
        holder = std::make_shared<parked_fd>(fd);
        taken.emplace_back(fd, holder);
      }
    }
    if (r.rp.pending())
      r.rp.deliver(cancelled_error(op_name(r), s.path,
                                   " (shutdown; still running: its buffer "
                                   "and descriptor are kept until it ends)"));
    r.rp = caf::response_promise{}; // let go of the actors on this thread
    if (notifier_->exact())
      by_serial_.erase(r.serial);
    --s.in_flight;
    touched.push_back(r.index);
    batch.push_back({std::move(ptr), std::move(holder)});
  }
  in_flight_.clear();
  park(std::move(batch));
  for (auto index : touched)
    done_with(index);
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
  // Whatever could not be cancelled is running: wait while requests keep
  // finishing; what makes no progress for `shutdown_grace` is parked.
  auto progress = std::chrono::steady_clock::now();
  for (;;) {
    auto before = in_flight_.size();
    collect();
    if (in_flight_.empty())
      break;
    auto now = std::chrono::steady_clock::now();
    if (in_flight_.size() < before)
      progress = now;
    else if (now - progress >= shutdown_grace) {
      park_in_flight();
      break;
    }
    constexpr size_t max_wait = 64; // aio_suspend copies its list
    const aiocb* waiting[max_wait];
    auto n = std::min(in_flight_.size(), max_wait);
    for (size_t i = 0; i < n; ++i)
      waiting[i] = &in_flight_[i]->cb;
    timespec limit{0, 100'000'000};
    aio_suspend(waiting, static_cast<int>(n), &limit);
  }
  // open/fstat/close: a queued close still closes, the rest is cancelled;
  // running ones are answered now and left to their helper threads.
  auto left = helpers_.stop();
  for (auto& j : left.queued) {
    auto& c = static_cast<call&>(*j);
    if (c.kind == aio_call_kind::close)
      c.run();
    else
      c.err = cancelled_error(call_name(c),
                              c.kind == aio_call_kind::open
                                ? c.path
                                : slots_[c.index].path,
                              " (shutdown)");
    complete_call(c);
  }
  for (auto& j : left.abandoned)
    answer_abandoned(static_cast<call&>(*j));
  process(); // delivers; `stopping_` keeps short transfers from resubmitting
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    auto& s = slots_[i];
    if (!s.taken)
      continue;
    auto rp = std::move(s.close_rp);
    caf::error err;
    close_slot(i, &err);
    reply(rp, err, caf::unit);
  }
  // Every request is finished: whatever the notifier still holds names
  // requests that are gone.
  ready_.clear();
  notifier_->drain(ready_);
  ready_.clear();
  stopping_ = false;
}

} // namespace actio
