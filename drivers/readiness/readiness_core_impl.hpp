#pragma once

/// `readiness_driver<Poller>`, part 1: construction, the socket registry,
/// close and failure, the step from a poller event to I/O, and the loop's
/// two calls. Included by readiness_driver_impl.hpp; include that instead.

#include <algorithm>
#include <cerrno>

#include <unistd.h>

#include <caf/actor_control_block.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/detail/file_pool.hpp"
#include "actio/drivers/readiness/readiness_driver.hpp"
#include "actio/drivers/readiness/socket_calls.hpp"

namespace actio {

namespace detail {

// Bounded work per socket and wake-up, so one busy peer cannot starve the
// others; leftover work goes on the ready list.
inline constexpr int max_reads_per_turn = 16;
inline constexpr int max_accepts_per_turn = 64;
inline constexpr size_t read_chunk = 64 * 1024;

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
  s.wq.limits = limits;
  s.writable = true;
  return id_of(index);
}

template <readiness_poller Poller>
void readiness_driver<Poller>::mark_ready(uint32_t index) {
  auto& s = slots_[index];
  if (!s.queued_ready) {
    s.queued_ready = true;
    ready_.push_back(index);
  }
}

template <readiness_poller Poller>
void readiness_driver<Poller>::close(socket_id id, caf::error reason) {
  counters_.request(driver_request::close);
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
                         s->wq.queued(), !s->read_done};
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
}

// -- close and failure --------------------------------------------------------

/// The socket is broken (reset, error): every pending request fails with
/// `err`, the owner learns that reading ended (`read_closed`, for a stream
/// still reading), then the socket is released and the owner told why.
template <readiness_poller Poller>
void readiness_driver<Poller>::fail(uint32_t index, caf::error err) {
  release(index, std::move(err), true);
}

/// Completes what is pending (with `reason`, or cancelled), deregisters and
/// closes the descriptor, frees the slot and tells the owner; with
/// `read_failed` (`fail`), a stream still reading gets `read_closed` with
/// `reason` before `connection_closed`.
template <readiness_poller Poller>
void readiness_driver<Poller>::release(uint32_t index, caf::error reason,
                                       bool read_failed) {
  auto& s = slots_[index];
  auto id = id_of(index);
  auto out = to_owner(s);
  s.wq.fail_all(out, id, reason);
  s.dq.fail_all(out, id, reason);
  if (read_failed && !s.read_done && !s.listener && !s.datagram) {
    s.read_done = true;
    deliver(s.owner, read_closed{id, reason});
  }
  poller_.remove(s.fd, id, s.out_armed);
  ::close(s.fd);
  backoff_.end(s.accept);
  auto owner = std::move(s.owner);
  slots_.release(index);
  deliver(owner, connection_closed{id, std::move(reason)});
  // A descriptor was freed: listeners waiting out EMFILE can try again now.
  backoff_.retry_all(slots_, [this](uint32_t i) { mark_ready(i); });
}

// -- from poller events to I/O ------------------------------------------------

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
              datagram_error{
                id, make_errno_error("recvmsg", r.error)});
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
  if (s.writable && (!s.wq.empty() || s.wq.shutdown_pending()))
    do_write(index);
  if (slots_[index].fd >= 0)
    do_read(index);
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
