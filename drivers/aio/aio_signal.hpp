#pragma once

/// The one real-time signal POSIX AIO completions are delivered with, and
/// how the AIO backend consumes it: through a signalfd in the driver's epoll
/// set, never through a handler or SIGEV_THREAD.
///
/// A signalfd only sees a signal that is blocked in every thread (otherwise
/// the kernel delivers it to some thread that has it unblocked). Threads
/// inherit their creator's mask, so `block_aio_signal()` must run on the
/// main thread before any other thread starts: `actio::config`'s constructor
/// calls it (through `prepare_backend_signals()`, drivers/select.hpp), which
/// runs before `caf::actor_system` starts CAF's scheduler threads. A thread a
/// program starts *before* constructing its `actio::config` must block the
/// signal itself (`pthread_sigmask(SIG_BLOCK, {aio_signal()})`). As a safety
/// net the signal also gets a no-op handler (never SIG_IGN, which would
/// discard it before the signalfd sees it), so a stray delivery cannot kill
/// the process, and a driver with requests in flight never sleeps longer
/// than `aio_rescan_interval` (a lost wake-up only costs latency).
///
/// Real-time signals queue, but glibc sends one per finished request and
/// several drivers may share the process: a wake-up means "something
/// finished somewhere", so every engine scans *all* its in-flight requests
/// (aio_error) after any wake-up, and whoever reads the signalfd wakes every
/// other engine (`notify_aio_engines`).

#include <chrono>
#include <functional>

namespace actio {

/// SIGRTMIN + 4 (glibc reserves the first real-time signals for itself;
/// SIGRTMIN already accounts for that).
int aio_signal() noexcept;

/// Blocks `aio_signal()` in the calling thread and installs the no-op
/// handler (once per process). Idempotent, cheap.
void block_aio_signal() noexcept;

/// Longest sleep of a driver with AIO requests in flight.
constexpr std::chrono::milliseconds aio_rescan_interval{100};

/// A non-blocking signalfd for `aio_signal()`, or -1 with errno set.
int open_aio_signalfd() noexcept;

/// Reads every pending signal from `sfd`; true if it read at least one.
bool drain_aio_signalfd(int sfd) noexcept;

/// Registry of live engines: `waker` is called (from any thread) when some
/// other engine consumed a completion signal. Returns a handle for removal.
void* register_aio_engine(std::function<void()> waker);
void unregister_aio_engine(void* handle);

/// Calls every registered waker except `self`'s.
void notify_aio_engines(void* self);

} // namespace actio
