// aio engine, part 3: open, fstat and close, which have no AIO form, as
// calls on helper threads (detail/blocking_pool.hpp); their results come
// back through `process()` like the rest.

#include "actio/drivers/aio/aio_files.hpp"

#include <cerrno>
#include <new>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/unit.hpp>

#include "actio/drivers/aio/aio_internal.hpp"
#include "actio/drivers/detail/pread_all.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

void detail::aio_call::run() noexcept {
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
    case aio_call_kind::read_batch:
      // The batch as preads on this helper thread, one after the other (an
      // lio_listio of the batch would be the AIO form: not done).
      try {
        sys_err = pread_batch(fd, offsets, len, bufs);
      } catch (const std::bad_alloc&) {
        bufs.clear();
        sys_err = ENOMEM;
      }
      return;
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
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    c->err = closed_error("fstat", slots_.name_of(file));
    later_.push_back(std::move(c));
    return;
  }
  c->index = slots_.index_of(file);
  c->fd = s->fds.front();
  ++s->in_flight; // a close waits for it
  submit_call(std::move(c));
}

void aio_files::read_batch(file_id file, std::vector<uint64_t> offsets,
                           size_t len, caf::response_promise rp) {
  auto c = std::make_shared<call>(this, aio_call_kind::read_batch, std::move(rp));
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    c->err = closed_error("read_batch", slots_.name_of(file));
    later_.push_back(std::move(c));
    return;
  }
  c->index = slots_.index_of(file);
  c->fd = s->fds.front();
  c->offsets = std::move(offsets);
  c->len = len;
  ++s->in_flight; // a close waits for it
  if (len == 0 || c->offsets.empty()) {
    c->bufs.resize(c->offsets.size()); // nothing to read
    later_.push_back(std::move(c));
    return;
  }
  submit_call(std::move(c));
}

void aio_files::close_file(file_id file, caf::response_promise rp) {
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    auto c = std::make_shared<call>(this, aio_call_kind::close, std::move(rp));
    c->err = closed_error("close", slots_.name_of(file));
    later_.push_back(std::move(c));
    return;
  }
  s->closing = true;
  s->close_rp = std::move(rp);
  done_with(slots_.index_of(file));
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
void aio_files::complete(call& c) {
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
      auto index = slots_.allocate();
      auto& s = slots_[index];
      s.fds = std::move(c.fds);
      c.fds.clear();
      s.path = std::move(c.path);
      s.seekable = c.seekable;
      s.pos = c.pos;
      c.rp.deliver(slots_.id_of(index));
      return;
    }
    case aio_call_kind::read_batch:
      reply(c.rp, err, std::move(c.bufs));
      if (c.index != aio_call::no_slot) {
        --slots_[c.index].in_flight;
        done_with(c.index);
      }
      return;
    case aio_call_kind::stat:
      reply(c.rp, err, uint64_t{c.size});
      if (c.index != aio_call::no_slot) {
        --slots_[c.index].in_flight;
        done_with(c.index);
      }
      return;
    case aio_call_kind::close:
      if (c.index != aio_call::no_slot)
        slots_.release(c.index);
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
    case aio_call_kind::read_batch:
      // The slot's descriptors are closed by this shutdown: an fstat or a
      // pread that has not started yet may then see EBADF or a reused
      // number; its result is dropped, and neither changes anything.
      --slots_[c.index].in_flight;
      done_with(c.index);
      return;
    case aio_call_kind::close:
      slots_.release(c.index); // the helper closes the descriptors
      return;
  }
}

} // namespace actio
