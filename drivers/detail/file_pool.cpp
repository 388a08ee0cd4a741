#include "actio/drivers/detail/file_pool.hpp"

#include <cerrno>
#include <string>
#include <utility>

#include <unistd.h>

#include <caf/error.hpp>
#include <caf/unit.hpp>

#include "actio/drivers/detail/dup_file.hpp"
#include "actio/drivers/detail/file_job.hpp"
#include "actio/drivers/detail/file_replies.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

using detail::cancelled_error;
using detail::closed_error;
using detail::file_job;
using detail::file_op;
using detail::reply;

// -- error texts --------------------------------------------------------------

/// The syscall a failed job reports, e.g. "fdatasync /tmp/f: ...".
const char* syscall_name(const file_job& j) {
  switch (j.kind) {
    case file_op::open: return "open";
    case file_op::read: return "read_at";
    case file_op::write: return "write_at";
    case file_op::sync: return j.datasync ? "fdatasync" : "fsync";
    case file_op::stat: return "fstat";
    case file_op::close: return "close";
    case file_op::read_batch: return "read_batch";
  }
  return "file";
}

/// "<what> <path>: <OS reason>", coded by errno like `make_errno_error`.
caf::error os_error(const char* what, const std::string& path, int err) {
  return make_path_error(what, path, err);
}

} // namespace

// -- construction -------------------------------------------------------------

file_pool::file_pool(std::function<void()> wake, size_t threads)
  : wake_(std::move(wake)), workers_(wake_, threads) {
}

file_pool::~file_pool() {
  shutdown();
}

void file_pool::shutdown() {
  stopped_ = true; // closes that become due from here on run inline
  auto left = workers_.stop();
  // Jobs that never started: cancelled, except a close, which still closes.
  for (auto& j : left.queued) {
    auto& fj = static_cast<job&>(*j);
    if (fj.kind == file_op::close) {
      fj.run();
    } else {
      auto path = fj.kind == file_op::open ? fj.path : slots_[fj.index].path;
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
  // once no abandoned job uses it). Their ids go stale when a slot is reused.
  for (uint32_t i = 0; i < slots_.size(); ++i)
    if (slots_.in_use(i))
      slots_.release(i);
  stopped_ = false; // usable again: closes go to workers
}

// -- file table ---------------------------------------------------------------

uint32_t file_pool::add_slot(descriptor_ptr fd, std::string path) {
  auto index = slots_.allocate();
  auto& s = slots_[index];
  s.fd = std::move(fd);
  s.path = std::move(path);
  return index;
}

size_t file_pool::open_files() const {
  return slots_.live();
}

// -- requests -----------------------------------------------------------------

/// Binds `j` to the open file `file` (counting it in flight), or sets its
/// closed error. Returns whether the job may run.
bool file_pool::admit(job& j, file_id file, const char* what) {
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    j.err = closed_error(what, slots_.name_of(file));
    return false;
  }
  j.index = slots_.index_of(file);
  j.file = s->fd;
  ++s->in_flight;
  return true;
}

void file_pool::submit(job_ptr j) {
  if (workers_.submit(j))
    return;
  // Not even one worker could start (thread limit): fail this request.
  const auto& path = j->kind == file_op::open ? j->path : slots_[j->index].path;
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

void file_pool::read_batch(file_id file, std::vector<uint64_t> offsets,
                           size_t len, caf::response_promise rp) {
  auto j = std::make_shared<job>(this, file_op::read_batch, std::move(rp));
  j->len = len;
  j->offsets = std::move(offsets);
  if (!admit(*j, file, "read_batch") || len == 0 || j->offsets.empty()) {
    j->bufs.resize(j->offsets.size()); // closed, or nothing to read
    finish_now(std::move(j));
  } else {
    submit(std::move(j));
  }
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
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    auto j = std::make_shared<job>(this, file_op::close, std::move(rp));
    j->err = closed_error("close_file", slots_.name_of(file));
    finish_now(std::move(j));
    return;
  }
  s->closing = true; // from now on, `find_open` fails for this id
  s->close_rp = std::move(rp);
  if (s->in_flight == 0)
    start_close(slots_.index_of(file));
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
    slots_.release(index);
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

bool file_pool::cancel_file_op(op_id id) {
  auto found = workers_.cancel_queued([id](blocking_job& x) {
    auto& j = static_cast<job&>(x);
    return (j.kind == file_op::read || j.kind == file_op::write) && j.id == id;
  });
  if (found == nullptr)
    return false;
  auto j = std::static_pointer_cast<job>(found);
  // Still counted in flight: its delivery lets a pending close go ahead.
  j->err = cancelled_error(syscall_name(*j), slots_[j->index].path, "");
  finish_now(std::move(j));
  return true;
}

caf::expected<dup_file_result> file_pool::dup_file(file_id file,
                                                  const char* what) {
  auto* s = slots_.find_open(file);
  if (s == nullptr)
    return closed_error(what, slots_.name_of(file));
  return detail::dup_descriptor(s->fd->fd, what, s->path);
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
    const auto& path = j.kind == file_op::open ? j.path : slots_[j.index].path;
    err = os_error(syscall_name(j), path, j.sys_err);
  }
  switch (j.kind) {
    case file_op::open:
      if (err) {
        reply(j.rp, err, file_id{0});
      } else if (!j.rp.pending()) {
        ::close(j.fd); // nobody can learn the id: do not keep the file open
      } else {
        auto fd = std::make_shared<detail::descriptor>(j.fd);
        reply(j.rp, err, slots_.id_of(add_slot(std::move(fd), std::move(j.path))));
      }
      j.fd = -1;
      return; // no slot was counted
    case file_op::read:
      reply(j.rp, err, std::move(j.buf));
      break;
    case file_op::read_batch:
      reply(j.rp, err, std::move(j.bufs));
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
        slots_.release(j.index); // the descriptor is gone, even on error
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
  const auto& path = j.kind == file_op::open ? j.path : slots_[j.index].path;
  auto err = cancelled_error(syscall_name(j), path,
                             ", file pool stopped while it ran");
  if (j.rp.pending())
    j.rp.deliver(std::move(err));
  if (j.kind == file_op::open)
    return; // no slot
  if (j.kind == file_op::close) {
    slots_.release(j.index); // the worker closes the descriptor
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

