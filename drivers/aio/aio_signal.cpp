#include "actio/drivers/aio/aio_signal.hpp"

#include <cerrno>
#include <list>
#include <mutex>

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace actio {

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

} // namespace actio
