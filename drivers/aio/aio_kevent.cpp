// The FreeBSD half of the aio backend (aio_notifier.hpp): completions as
// kevents (SIGEV_KEVENT), kqueue networking. CMake builds this file on
// FreeBSD only (aio_signal.cpp is the Linux half).
//
// NEVER BUILT OR RUN ON FREEBSD: written against FreeBSD's aio(4),
// lio_listio(2) and kqueue(2) and sys/kern/vfs_aio.c, and only syntax-checked
// on Linux against libkqueue's <sys/event.h> with stand-in definitions for
// the FreeBSD-only sigevent fields (see the README's support matrix).
//
// How FreeBSD announces a request (vfs_aio.c, aio_aqueue): a request whose
// sigevent is SIGEV_KEVENT gets an EVFILT_AIO knote registered in
// `sigev_notify_kqueue` when it is queued, also inside lio_listio, which
// queues every entry through the same path: ident = the user's aiocb,
// udata = `sigev_value.sival_ptr`, flags = EV_ADD | `sigev_notify_kevent_
// flags` (EV_ONESHOT here: one event per request). It fires when the request
// finished (done, failed or cancelled by aio_cancel); aio_return then frees
// the kernel's side. An entry lio_listio could not queue registers nothing
// and reports its error through aio_error, as the engine expects. EVFILT_LIO
// (one event when a whole lio_listio list is done) is not used: per-request
// events name every request as it finishes, so nothing waits for the
// slowest request of its batch and nothing needs a scan.
//
// The engine's own kqueue receives these events; the driver's networking
// kqueue watches it for readability (a kqueue descriptor is readable while it
// holds events), so one kevent() wait covers sockets, timers and files.

#if defined(__FreeBSD__)

#  include <cerrno>

#  include <sys/types.h>
#  include <sys/event.h>
#  include <sys/time.h>
#  include <unistd.h>

#  include "actio/drivers/errc.hpp"
#  include "actio/drivers/aio/aio_files.hpp"
#  include "actio/drivers/aio/aio_notifier.hpp"
#  include "actio/drivers/kqueue/kqueue_driver.hpp"

namespace actio {

namespace {

class kevent_notifier final : public aio_notifier {
public:
  explicit kevent_notifier(int kq) : kq_(kq) {
  }

  ~kevent_notifier() override {
    ::close(kq_); // removes the knotes still registered
  }

  void attach(std::function<void()>) override {
    // Events name their request and never reach another engine: nobody
    // needs waking from outside.
  }

  int fd() const noexcept override {
    return kq_;
  }

  bool exact() const noexcept override {
    return true;
  }

  void arm(aiocb& cb, void* cookie) noexcept override {
    cb.aio_sigevent.sigev_notify = SIGEV_KEVENT;
    cb.aio_sigevent.sigev_notify_kqueue = kq_;
    cb.aio_sigevent.sigev_notify_kevent_flags = EV_ONESHOT;
    cb.aio_sigevent.sigev_value.sival_ptr = cookie;
  }

  bool drain(std::vector<void*>& finished) override {
    constexpr int batch = 64;
    struct kevent events[batch];
    const timespec zero{0, 0};
    bool any = false;
    for (;;) {
      int n = ::kevent(kq_, nullptr, 0, events, batch, &zero);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return any; // an error here only delays: the next wake-up retries
      any = true;
      for (int i = 0; i < n; ++i)
        if (events[i].filter == EVFILT_AIO)
          finished.push_back(reinterpret_cast<void*>(events[i].udata));
      if (n < batch)
        return any;
    }
  }

  std::optional<std::chrono::milliseconds> rescan_interval() const noexcept override {
    return std::nullopt; // every completion is announced here
  }

private:
  int kq_;
};

} // namespace

caf::expected<std::unique_ptr<aio_notifier>> make_aio_notifier() {
  int kq = ::kqueue();
  if (kq < 0)
    return make_errno_error("kqueue", errno);
  return std::unique_ptr<aio_notifier>{new kevent_notifier(kq)};
}

void prepare_aio_process() noexcept {
  // No signals involved.
}

void init_aio_runtime(const aio_options&) noexcept {
  // Kernel AIO: the limits are sysctl vfs.aio.* (max_aio_queue_per_proc,
  // max_aio_per_proc, ...), not the process's to set.
}

caf::expected<std::unique_ptr<driver>>
make_aio_network(int fd, std::function<void()> on_ready) {
  auto net = kqueue_driver::make();
  if (!net)
    return std::move(net.error());
  // Needs kqueue_driver::watch, the counterpart of epoll_driver::watch
  // (level-triggered readability of `fd`, `on_ready` run in poll()).
  auto* kq = static_cast<kqueue_driver*>(net->get());
  if (auto err = kq->watch(fd, std::move(on_ready)))
    return err;
  return std::move(*net);
}

} // namespace actio

#endif // __FreeBSD__
