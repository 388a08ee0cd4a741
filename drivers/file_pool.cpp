#include "actio/drivers/file_pool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/error.hpp>
#include <caf/unit.hpp>

#include "actio/drivers/errc.hpp"

namespace actio {

// -- jobs ---------------------------------------------------------------------

namespace detail {

enum class file_op : uint8_t { open, read, write, sync, stat, close };

/// An open file's descriptor, shared by its slot and the jobs using it: it
/// is closed when the last of them lets go, unless a close job closed it
/// first. So a job abandoned at shutdown (still in a syscall on a worker)
/// keeps its descriptor number from being closed and reused under it.
struct descriptor {
  explicit descriptor(int x) : fd(x) {
  }
  ~descriptor() {
    if (fd >= 0)
      ::close(fd);
  }
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  int fd;
};

/// One request, from submission to delivery. The driver thread fills in the
/// arguments, a worker runs the syscalls and records the outcome (value or
/// errno), and `complete` turns that into the reply on the driver thread. A
/// job that never runs (closed file, cancel, shutdown, nothing to do) is
/// delivered by the next `drain`, carrying its error in `err` if it failed.
/// Of an abandoned job (running at shutdown) the driver touches only `rp`
/// and the arguments, never the outcome.
struct file_job final : blocking_job {
  static constexpr uint32_t no_slot = ~uint32_t{0};

  file_job(file_pool* owner, file_op kind, caf::response_promise promise)
    : pool(owner), op(kind), rp(std::move(promise)) {
  }

  void run() noexcept override;

  void complete() override {
    pool->complete(*this);
  }

  /// The call finished after shutdown answered it: nobody learns of a new
  /// descriptor, so it goes; `file` (a slot's) closes with its last user.
  void discard() noexcept override {
    if (op == file_op::open && fd >= 0)
      ::close(fd);
  }

  file_pool* pool;          ///< driver thread only
  file_op op;
  caf::response_promise rp; ///< driver thread only

  // Arguments.
  uint32_t index = no_slot; ///< slot whose `in_flight` counts this job
  std::shared_ptr<descriptor> file; ///< that slot's descriptor
  op_id id = 0;             ///< read/write: the caller's id, for `cancel`
  uint64_t offset = 0;
  size_t len = 0;
  bool datasync = false;
  int flags = 0;
  unsigned mode = 0;
  std::string path; ///< open only: other jobs name their slot's path
  byte_buffer buf;  ///< write: the data; read: the result

  // Outcome (worker, then driver thread).
  int fd = -1;        ///< open: the new descriptor; else `file`'s
  uint64_t value = 0; ///< write: bytes written; stat: the size
  int sys_err = 0;    ///< errno of the failed syscall; 0: success
  caf::error err;     ///< why the job never ran
};

} // namespace detail

namespace {

using detail::file_job;
using detail::file_op;

// -- error texts --------------------------------------------------------------

/// The syscall a failed job reports, e.g. "fdatasync /tmp/f: ...".
const char* syscall_name(const file_job& j) {
  switch (j.op) {
    case file_op::open: return "open";
    case file_op::read: return "read_at";
    case file_op::write: return "write_at";
    case file_op::sync: return j.datasync ? "fdatasync" : "fsync";
    case file_op::stat: return "fstat";
    case file_op::close: return "close";
  }
  return "file";
}

/// "<what> <path>: <OS reason>", coded by errno like `make_errno_error`.
caf::error os_error(const char* what, const std::string& path, int err) {
  return make_path_error(what, path, err);
}

/// "<what>: file is closed (<path or id>)".
caf::error closed_error(const char* what, const std::string& name) {
  return make_actio_error(errc::closed,
                          std::string{what} + ": file is closed (" + name
                            + ")");
}

/// "<what> <path>: cancelled<why>".
caf::error cancelled_error(const char* what, const std::string& path,
                           const char* why) {
  return make_actio_error(errc::cancelled, std::string{what} + ' ' + path
                                             + ": cancelled" + why);
}

// -- blocking syscalls (worker threads) ---------------------------------------

void do_open(file_job& j) {
  int fd;
  do
    fd = ::openat(AT_FDCWD, j.path.c_str(), j.flags | O_CLOEXEC,
                  static_cast<mode_t>(j.mode));
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    j.sys_err = errno;
  else
    j.fd = fd;
}

/// pread until `len` bytes or EOF; on error the partial data is dropped.
/// Offset `stream_offset`: one read(2) at the current position (pipes,
/// terminals), which returns what is there.
void do_read(file_job& j) {
  j.buf.resize(j.len);
  size_t got = 0;
  if (j.offset == stream_offset) {
    for (;;) {
      auto n = ::read(j.fd, j.buf.data(), j.len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        j.sys_err = errno;
        j.buf = byte_buffer{};
        return;
      }
      j.buf.resize(static_cast<size_t>(n));
      return;
    }
  }
  while (got < j.len) {
    auto n = ::pread(j.fd, j.buf.data() + got, j.len - got,
                     static_cast<off_t>(j.offset + got));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      j.sys_err = errno;
      j.buf = byte_buffer{};
      return;
    }
    if (n == 0)
      break; // EOF
    got += static_cast<size_t>(n);
  }
  j.buf.resize(got);
}

/// pwrite until all of `buf` is written; short writes continue where they
/// stopped.
void do_write(file_job& j) {
  size_t done = 0;
  while (done < j.buf.size()) {
    auto n = ::pwrite(j.fd, j.buf.data() + done, j.buf.size() - done,
                      static_cast<off_t>(j.offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      j.sys_err = errno;
      break;
    }
    if (n == 0) { // not for regular files; do not spin on it
      j.sys_err = EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  j.value = done;
  j.buf = byte_buffer{}; // the data is with the kernel: free it now
}

void do_sync(file_job& j) {
  int rc;
  do
    rc = j.datasync ? ::fdatasync(j.fd) : ::fsync(j.fd);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    j.sys_err = errno;
}

void do_stat(file_job& j) {
  struct stat st {};
  if (::fstat(j.fd, &st) < 0)
    j.sys_err = errno;
  else
    j.value = static_cast<uint64_t>(st.st_size);
}

/// On Linux the descriptor is gone after close(2) whatever it returns;
/// EINTR is not a failure worth reporting (retrying could close a reused fd).
/// Runs once every other job on the file was delivered, so nobody else
/// uses the descriptor any more.
void do_close(file_job& j) {
  auto fd = std::exchange(j.file->fd, -1);
  if (::close(fd) < 0 && errno != EINTR)
    j.sys_err = errno;
}

} // namespace

/// Runs the job's syscalls on the calling thread. Never throws: running out
/// of memory for a read buffer is reported as ENOMEM.
void detail::file_job::run() noexcept {
  auto& j = *this;
  if (j.file != nullptr && j.op != file_op::open)
    j.fd = j.file->fd;
  try {
    switch (j.op) {
      case file_op::open: do_open(j); break;
      case file_op::read: do_read(j); break;
      case file_op::write: do_write(j); break;
      case file_op::sync: do_sync(j); break;
      case file_op::stat: do_stat(j); break;
      case file_op::close: do_close(j); break;
    }
  } catch (const std::bad_alloc&) {
    j.sys_err = ENOMEM;
  } catch (const std::length_error&) {
    j.sys_err = ENOMEM; // len beyond what a vector can hold
  }
}

namespace {

// -- replies (driver thread) --------------------------------------------------

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

// -- construction -------------------------------------------------------------

file_pool::file_pool(std::function<void()> wake, size_t threads)
  : wake_(std::move(wake)), workers_(wake_, threads) {
}

file_pool::~file_pool() {
  stopped_ = true; // closes that become due from here on run inline
  auto left = workers_.stop();
  // Jobs that never started: cancelled, except a close, which still closes.
  for (auto& j : left.queued) {
    auto& fj = static_cast<job&>(*j);
    if (fj.op == file_op::close) {
      fj.run();
    } else {
      auto path = fj.op == file_op::open ? fj.path : slots_[fj.index].path;
      fj.err = cancelled_error(syscall_name(fj), path, ", file pool stopped");
    }
    fj.complete();
  }
  // Jobs still running (a FIFO nobody opens, a hung mount): answered now;
  // their workers drop the result and the descriptor when the call returns.
  for (auto& j : left.abandoned)
    answer_abandoned(static_cast<job&>(*j));
  // Deliver everything. Each round may make closes due (their last job was
  // just delivered), which run inline.
  while (drain() > 0)
    ; // next round
  // No slot is closing any more; let go of the rest (a descriptor closes
  // once no abandoned job uses it).
  for (auto& s : slots_) {
    if (s.fd != nullptr) {
      s.fd = nullptr;
      --live_;
    }
  }
}

// -- file table ---------------------------------------------------------------

file_id file_pool::id_of(uint32_t index) const noexcept {
  return (uint64_t{slots_[index].gen} << 32) | index;
}

/// The open slot `file` names, or null when the id is unknown, stale
/// (slot reused), closed or closing.
file_pool::slot* file_pool::find(file_id file) noexcept {
  auto index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  auto gen = static_cast<uint32_t>(file >> 32);
  if (index >= slots_.size())
    return nullptr;
  auto& s = slots_[index];
  return s.fd != nullptr && !s.closing && s.gen == gen ? &s : nullptr;
}

/// The path of `file` if its slot still remembers it (open, closing, or
/// closed but not reused yet), else the id.
std::string file_pool::name_of(file_id file) const {
  auto index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  auto gen = static_cast<uint32_t>(file >> 32);
  if (index < slots_.size() && slots_[index].gen == gen)
    return slots_[index].path;
  return "file id " + std::to_string(file);
}

uint32_t file_pool::add_slot(descriptor_ptr fd, std::string path) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    auto& s = slots_[index];
    s.gen = s.gen + 1 == 0 ? 1 : s.gen + 1; // ids of the last user go stale
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto& s = slots_[index];
  s.fd = std::move(fd);
  s.closing = false;
  s.in_flight = 0;
  s.abandoned = 0;
  s.path = std::move(path);
  ++live_;
  return index;
}

/// The descriptor was closed: the slot waits for reuse, keeping gen and path.
void file_pool::free_slot(uint32_t index) {
  auto& s = slots_[index];
  s.fd = nullptr;
  s.closing = false;
  s.in_flight = 0;
  s.abandoned = 0;
  s.close_rp = caf::response_promise{};
  free_.push_back(index);
  --live_;
}

size_t file_pool::open_files() const {
  return live_;
}

// -- requests -----------------------------------------------------------------

/// Binds `j` to the open file `file` (counting it in flight), or sets its
/// closed error. Returns whether the job may run.
bool file_pool::admit(job& j, file_id file, const char* what) {
  auto* s = find(file);
  if (s == nullptr) {
    j.err = closed_error(what, name_of(file));
    return false;
  }
  j.index = static_cast<uint32_t>(file & 0xFFFFFFFFu);
  j.file = s->fd;
  ++s->in_flight;
  return true;
}

void file_pool::submit(job_ptr j) {
  if (workers_.submit(j))
    return;
  // Not even one worker could start (thread limit): fail this request.
  const auto& path = j->op == file_op::open ? j->path : slots_[j->index].path;
  j->err = make_path_error(syscall_name(*j), path, EAGAIN);
  finish_now(std::move(j));
}

void file_pool::open_file(std::string path, int flags, unsigned mode,
                          caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::open, std::move(rp));
  j->path = std::move(path);
  j->flags = flags;
  j->mode = mode;
  submit(std::move(j));
}

void file_pool::read_at(file_id file, uint64_t offset, size_t len, op_id id,
                        caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::read, std::move(rp));
  j->id = id;
  j->offset = offset;
  j->len = len;
  if (!admit(*j, file, "read_at") || len == 0)
    finish_now(std::move(j)); // closed, or nothing to read: empty buffer
  else
    submit(std::move(j));
}

void file_pool::write_at(file_id file, uint64_t offset, byte_buffer buf,
                         op_id id, caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::write, std::move(rp));
  j->id = id;
  j->offset = offset;
  j->buf = std::move(buf);
  if (!admit(*j, file, "write_at") || j->buf.empty())
    finish_now(std::move(j)); // closed, or nothing to write: 0 bytes
  else
    submit(std::move(j));
}

void file_pool::sync_file(file_id file, bool datasync,
                          caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::sync, std::move(rp));
  j->datasync = datasync;
  if (admit(*j, file, "sync_file"))
    submit(std::move(j));
  else
    finish_now(std::move(j));
}

void file_pool::stat_file(file_id file, caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::stat, std::move(rp));
  if (admit(*j, file, "stat_file"))
    submit(std::move(j));
  else
    finish_now(std::move(j));
}

void file_pool::close_file(file_id file, caf::response_promise rp) {
  auto* s = find(file);
  if (s == nullptr) {
    auto j = std::make_shared<job>(this, file_op::close, std::move(rp));
    j->err = closed_error("close_file", name_of(file));
    finish_now(std::move(j));
    return;
  }
  s->closing = true; // from now on, `find` fails for this id
  s->close_rp = std::move(rp);
  if (s->in_flight == 0)
    start_close(static_cast<uint32_t>(file & 0xFFFFFFFFu));
  // else: the last job's delivery calls start_close (see done_with)
}

/// Queues close(2) for a closing slot whose jobs are all delivered. The slot
/// stays taken (its generation unchanged) until the close is delivered.
void file_pool::start_close(uint32_t index) {
  auto& s = slots_[index];
  if (s.abandoned > 0) {
    // Shutdown left calls running on the descriptor: closing it now could
    // let its number be reused under them. It closes when the last of them
    // lets go (`descriptor`); the close is done as far as the caller goes.
    auto rp = std::move(s.close_rp);
    free_slot(index);
    if (rp.pending())
      rp.deliver(caf::unit);
    return;
  }
  auto j = std::make_shared<job>(this, file_op::close, std::move(s.close_rp));
  j->index = index;
  j->file = s.fd;
  if (stopped_) { // destructor: no workers any more
    j->run();
    j->complete();
  } else {
    submit(std::move(j));
  }
}

bool file_pool::cancel(op_id id) {
  auto found = workers_.cancel_queued([id](blocking_job& x) {
    auto& j = static_cast<job&>(x);
    return (j.op == file_op::read || j.op == file_op::write) && j.id == id;
  });
  if (found == nullptr)
    return false;
  auto j = std::static_pointer_cast<job>(found);
  // Still counted in flight: its delivery lets a pending close go ahead.
  j->err = cancelled_error(syscall_name(*j), slots_[j->index].path, "");
  finish_now(std::move(j));
  return true;
}

// -- completions --------------------------------------------------------------

/// A job that never runs is delivered by the next `drain`, never from inside
/// the request call. Waking the driver makes that drain come soon.
void file_pool::finish_now(job_ptr j) {
  immediate_.push_back(std::move(j));
  wake_();
}

size_t file_pool::drain() {
  size_t n = 0;
  while (!immediate_.empty()) {
    auto j = std::move(immediate_.front());
    immediate_.pop_front();
    complete(*j);
    ++n;
  }
  return n + workers_.drain();
}

/// Delivers one job's outcome and settles its slot.
void file_pool::complete(job& j) {
  auto err = std::move(j.err);
  if (!err && j.sys_err != 0) {
    const auto& path = j.op == file_op::open ? j.path : slots_[j.index].path;
    err = os_error(syscall_name(j), path, j.sys_err);
  }
  switch (j.op) {
    case file_op::open:
      if (err) {
        reply(j.rp, err, file_id{0});
      } else if (!j.rp.pending()) {
        ::close(j.fd); // nobody can learn the id: do not keep the file open
      } else {
        auto fd = std::make_shared<detail::descriptor>(j.fd);
        reply(j.rp, err, id_of(add_slot(std::move(fd), std::move(j.path))));
      }
      j.fd = -1;
      return; // no slot was counted
    case file_op::read:
      reply(j.rp, err, std::move(j.buf));
      break;
    case file_op::write:
      reply(j.rp, err, uint64_t{j.value});
      break;
    case file_op::sync:
      reply(j.rp, err, caf::unit);
      break;
    case file_op::stat:
      reply(j.rp, err, uint64_t{j.value});
      break;
    case file_op::close:
      if (j.index != file_job::no_slot)
        free_slot(j.index); // the descriptor is gone, even on error
      reply(j.rp, err, caf::unit);
      return; // a close is not counted in flight
  }
  j.file = nullptr;
  if (j.index != file_job::no_slot)
    done_with(j.index);
}

/// Shutdown found `j` running: answers it without touching its outcome
/// (the worker still writes it) and settles its slot.
void file_pool::answer_abandoned(job& j) {
  const auto& path = j.op == file_op::open ? j.path : slots_[j.index].path;
  auto err = cancelled_error(syscall_name(j), path,
                             ", file pool stopped while it ran");
  if (j.rp.pending())
    j.rp.deliver(std::move(err));
  if (j.op == file_op::open)
    return; // no slot
  if (j.op == file_op::close) {
    free_slot(j.index); // the worker closes the descriptor
    return;
  }
  ++slots_[j.index].abandoned; // the call keeps using the descriptor
  done_with(j.index);
}

/// One job on the slot was delivered; the last one lets a close go ahead.
void file_pool::done_with(uint32_t index) {
  auto& s = slots_[index];
  if (--s.in_flight == 0 && s.closing && s.fd != nullptr)
    start_close(index);
}

} // namespace actio
