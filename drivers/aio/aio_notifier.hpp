#pragma once

/// How POSIX AIO completions reach the engine (`aio_files`): the one part of
/// the aio backend that differs per platform, behind a small interface so
/// that everything else (slots, dup'd descriptors, lio_listio batches,
/// cancel, shutdown) is shared code, built and tested on Linux.
///
/// | platform | file | delivery | names the request? |
/// |---|---|---|---|
/// | Linux, glibc | aio_signal.cpp | `SIGEV_SIGNAL` (one real-time signal) read from a signalfd | no: signals coalesce and any driver's signalfd may take another's, so the engine scans every request in flight with `aio_error` |
/// | FreeBSD | aio_kevent.cpp | `SIGEV_KEVENT` into a kqueue of the engine's own: one `EVFILT_AIO` event per request (ident: the aiocb, udata: the request) | yes: the engine checks just those |
///
/// Exactly one of the two files is built (CMake picks it by platform). The
/// readiness driver hosting the engine watches `fd()` (`aio_files::notify_fd`)
/// for readability in its poller (epoll on Linux, kqueue on FreeBSD: a kqueue
/// descriptor is readable while it holds events) and then calls
/// `aio_files::notified()` on its own thread.

#include <aio.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <caf/expected.hpp>

namespace actio {

struct aio_options;

class aio_notifier {
public:
  virtual ~aio_notifier();

  /// The engine hands over how to wake its driver's loop from any thread
  /// (once, before the first `arm`). Linux: another engine consumed a
  /// completion signal that may be ours. FreeBSD: unused.
  virtual void attach(std::function<void()> wake) = 0;

  /// Readable while notifications are pending.
  virtual int fd() const noexcept = 0;

  /// True when every completion of this engine's requests arrives here,
  /// naming its request (`drain` fills `finished`); false when a wake-up
  /// only says "something finished, maybe": the engine then scans all.
  virtual bool exact() const noexcept = 0;

  /// Fills `cb.aio_sigevent` so that the completion of `cb` is announced
  /// here, carrying `cookie` (the engine's request).
  virtual void arm(aiocb& cb, void* cookie) noexcept = 0;

  /// Consumes what is pending on `fd()`. When `exact()`, appends the cookie
  /// of every request announced as finished to `finished`. Returns true if
  /// it consumed anything.
  virtual bool drain(std::vector<void*>& finished) = 0;

  /// Longest a driver may sleep while requests are in flight: a safety net
  /// where a notification can go astray (Linux: a thread that did not block
  /// the signal takes it). nullopt: no limit needed.
  virtual std::optional<std::chrono::milliseconds> rescan_interval() const noexcept = 0;
};

// -- provided by the platform's file (aio_signal.cpp or aio_kevent.cpp) --------

/// The platform's notifier.
caf::expected<std::unique_ptr<aio_notifier>> make_aio_notifier();

/// What the process needs before any thread starts (Linux: block the
/// completion signal, aio_signal.hpp; FreeBSD: nothing). Idempotent.
void prepare_aio_process() noexcept;

/// Process-wide AIO tuning from `opts`, first call only (glibc: aio_init;
/// FreeBSD: none, the kernel's limits are sysctl vfs.aio.*).
void init_aio_runtime(const aio_options& opts) noexcept;

} // namespace actio
