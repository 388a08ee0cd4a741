#include "actio/net/serve.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <caf/scoped_actor.hpp>

#include "actio/net/atoms.hpp"

namespace actio::net {

namespace {

sigset_t stop_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

/// Waits until `sig_fd` has a signal (returns its number), `stop_fd` is
/// readable (0) or `done_fd` is readable (-1). Descriptors < 0 are ignored.
int wait_stop(int sig_fd, int stop_fd, int done_fd) {
  pollfd fds[3] = {{sig_fd, POLLIN, 0}, {stop_fd, POLLIN, 0},
                   {done_fd, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 0; // cannot wait: treat as a stop request
    }
    if (fds[2].revents != 0)
      return -1;
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      if (read(sig_fd, &info, sizeof(info)) == sizeof(info))
        return static_cast<int>(info.ssi_signo);
      continue;
    }
    if (fds[1].revents != 0)
      return 0;
  }
}

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0)
      close(fd);
  }
};

} // namespace

void catch_stop_signals() {
  auto s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

void release_stop_signals() {
  auto s = stop_set();
  pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
}

service_stop::service_stop() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
}

service_stop::~service_stop() {
  if (fd_ >= 0)
    close(fd_);
}

void service_stop::request() noexcept {
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(fd_, &one, sizeof(one));
}

serve_result serve_counted(runtime& rt, std::vector<caf::actor> listeners,
                           serve_options opts) {
  opts.on_stop.emplace_back([&rt] { rt.shutdown(); });
  return serve_counted(rt.system(), std::move(listeners), std::move(opts));
}

serve_result serve_counted(caf::actor_system& sys,
                           std::vector<caf::actor> listeners,
                           serve_options opts) {
  std::mutex out_mx;
  auto say = [&](const std::string& line) {
    std::lock_guard<std::mutex> guard{out_mx};
    if (opts.out)
      *opts.out << opts.name << ": " << line << std::endl;
  };
  auto set = stop_set();
  fd_closer sig{opts.signals ? signalfd(-1, &set, SFD_CLOEXEC) : -1};
  int stop_fd = opts.stop ? opts.stop->native_handle() : -1;
  auto first = wait_stop(sig.fd, stop_fd, -1);
  std::ostringstream msg;
  msg << (first > 0 ? signal_name(first) : "stop requested")
      << ", draining (up to "
      << static_cast<double>(opts.drain_timeout.count()) / 1000 << " s"
      << (sig.fd >= 0 ? "; signal again to exit now)" : ")");
  say(msg.str());
  // A second signal ends the process at once, whatever the drain is doing.
  fd_closer done{eventfd(0, EFD_CLOEXEC)};
  std::thread watcher;
  if (sig.fd >= 0)
    watcher = std::thread{[&] {
      auto again = wait_stop(sig.fd, -1, done.fd);
      if (again > 0) {
        say(std::string{signal_name(again)} + " again, exiting now");
        std::_Exit(1);
      }
    }};
  serve_result res;
  {
    auto deadline = std::chrono::duration_cast<caf::timespan>(
      opts.drain_timeout);
    caf::scoped_actor self{sys};
    // All listeners drain at once: send every request, then collect.
    using handle = decltype(self->request(caf::actor{}, caf::infinite,
                                          drain_atom::value, deadline));
    std::vector<handle> pending;
    for (auto& l : listeners)
      if (l)
        pending.push_back(self->request(l, deadline + std::chrono::seconds{30},
                                        drain_atom::value, deadline));
    for (auto& h : pending)
      h.receive(
        [&](const drain_result& r) {
          res.drained += r.drained;
          res.forced += r.forced;
        },
        [&](const caf::error& err) {
          ++res.failed;
          say("drain failed: " + sys.render(err));
        });
  }
  std::ostringstream counts;
  counts << "drained " << res.drained << " connection(s), " << res.forced
         << " closed at the deadline";
  say(counts.str());
  for (auto& f : opts.on_stop)
    if (f)
      f();
  if (watcher.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = write(done.fd, &one, sizeof(one));
    watcher.join();
  }
  return res;
}

int serve(runtime& rt, std::vector<caf::actor> listeners, serve_options opts) {
  return serve_counted(rt, std::move(listeners), std::move(opts)).status;
}

} // namespace actio::net
