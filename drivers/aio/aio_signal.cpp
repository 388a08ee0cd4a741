// The Linux/glibc half of the aio backend (aio_notifier.hpp): completion
// by one real-time signal read from a signalfd, glibc's aio_init, epoll
// networking. CMake builds this file on Linux only (aio_kevent.cpp is the
// FreeBSD half).

#include "actio/drivers/aio/aio_signal.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/aio/aio_files.hpp"
#include "actio/drivers/aio/aio_notifier.hpp"
#include "actio/drivers/epoll/epoll_driver.hpp"

namespace actio {

extern std::atomic<uint64_t> aio_wakeups; // aio_files.cpp

namespace {

void ignore_signal(int) {
  // Reached only by a thread that did not block the signal; the driver's
  // periodic rescan picks the completion up.
}

std::mutex registry_mtx;
std::list<std::function<void()>> registry; // stable addresses: the handles

} // namespace

int aio_signal() noexcept {
  return SIGRTMIN + 4;
}

void block_aio_signal() noexcept {
  static std::once_flag handler_once;
  std::call_once(handler_once, [] {
    struct sigaction old {};
    if (sigaction(aio_signal(), nullptr, &old) == 0
        && old.sa_handler == SIG_DFL) {
      struct sigaction sa {};
      sa.sa_handler = &ignore_signal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      sigaction(aio_signal(), &sa, nullptr);
    }
  });
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, aio_signal());
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int open_aio_signalfd() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, aio_signal());
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

bool drain_aio_signalfd(int sfd) noexcept {
  bool got = false;
  signalfd_siginfo info[16];
  for (;;) {
    auto n = ::read(sfd, info, sizeof(info));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return got;
    got = true;
  }
}

void* register_aio_engine(std::function<void()> waker) {
  std::lock_guard<std::mutex> guard{registry_mtx};
  registry.emplace_back(std::move(waker));
  return &registry.back();
}

void unregister_aio_engine(void* handle) {
  std::lock_guard<std::mutex> guard{registry_mtx};
  registry.remove_if([handle](auto& f) { return &f == handle; });
}

void notify_aio_engines(void* self) {
  std::lock_guard<std::mutex> guard{registry_mtx};
  for (auto& f : registry)
    if (&f != self)
      f();
}

// -- the notifier ---------------------------------------------------------------

namespace {

/// SIGEV_SIGNAL with `aio_signal()`, consumed through a signalfd. A wake-up
/// names nothing (see aio_signal.hpp), so `exact()` is false and the engine
/// scans every request in flight.
class signalfd_notifier final : public aio_notifier {
public:
  explicit signalfd_notifier(int sfd) : sfd_(sfd) {
  }

  ~signalfd_notifier() override {
    if (registration_ != nullptr)
      unregister_aio_engine(registration_);
    ::close(sfd_);
  }

  void attach(std::function<void()> wake) override {
    wake_ = std::move(wake);
  }

  int fd() const noexcept override {
    return sfd_;
  }

  bool exact() const noexcept override {
    return false;
  }

  void arm(aiocb& cb, void* cookie) noexcept override {
    // Registered with the first request, not at construction: other engines
    // may call `wake_` from then on, and by now the driver is complete.
    if (registration_ == nullptr && wake_)
      registration_ = register_aio_engine(wake_);
    cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
    cb.aio_sigevent.sigev_signo = aio_signal();
    cb.aio_sigevent.sigev_value.sival_ptr = cookie;
  }

  bool drain(std::vector<void*>&) override {
    if (!drain_aio_signalfd(sfd_))
      return false;
    ++aio_wakeups;
    // The signal may have been meant for another driver's request (this
    // engine may not be registered yet: then it notifies everyone).
    notify_aio_engines(registration_);
    return true;
  }

  std::optional<std::chrono::milliseconds> rescan_interval() const noexcept override {
    return aio_rescan_interval;
  }

private:
  int sfd_;
  std::function<void()> wake_;
  void* registration_ = nullptr; ///< in the engine registry, once armed
};

} // namespace

caf::expected<std::unique_ptr<aio_notifier>> make_aio_notifier() {
  int sfd = open_aio_signalfd();
  if (sfd < 0)
    return make_errno_error("signalfd", errno);
  return std::unique_ptr<aio_notifier>{new signalfd_notifier(sfd)};
}

void prepare_aio_process() noexcept {
  block_aio_signal();
}

void init_aio_runtime(const aio_options& opts) noexcept {
  // glibc ignores aio_init once AIO ran, so only the first engine tunes it.
  static std::once_flag init_once;
  std::call_once(init_once, [&opts] {
    aioinit init{};
    init.aio_threads = static_cast<int>(std::clamp<size_t>(opts.threads, 1, 1024));
    init.aio_num = static_cast<int>(std::clamp<size_t>(opts.num, 1, 65536));
    init.aio_idle_time = 1;
    aio_init(&init);
  });
  block_aio_signal(); // this thread, in case nobody did before it started
}

caf::expected<std::unique_ptr<driver>>
make_aio_network(int fd, std::function<void()> on_ready) {
  auto net = epoll_driver::make();
  if (!net)
    return std::move(net.error());
  auto* epoll = static_cast<epoll_driver*>(net->get());
  if (auto err = epoll->watch(fd, std::move(on_ready)))
    return err;
  return std::move(*net);
}

} // namespace actio
