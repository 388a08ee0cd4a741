#include "actio/net/serve.hpp"

#include <algorithm>
#include <atomic>
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

/// The signalfd `catch_stop_signals` opened: made before any thread runs,
/// so a service already out of descriptors can still be stopped.
std::atomic<int> caught_fd{-1};

/// Waits until `sig_fd` has a signal (returns its number), `stop_fd` is
/// readable (0) or `done` is set (-1, checked every 100 ms; only with a
/// `done`). Descriptors < 0 are ignored.
int wait_stop(int sig_fd, int stop_fd, const std::atomic<bool>* done) {
  pollfd fds[2] = {{sig_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    if (done && done->load())
      return -1;
    auto n = poll(fds, 2, done ? 100 : -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return 0; // cannot wait: treat as a stop request
    }
    if (n == 0)
      continue;
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
  if (caught_fd.load() < 0)
    caught_fd = signalfd(-1, &s, SFD_CLOEXEC);
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

std::chrono::milliseconds drain_timeout_of(double seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(seconds, 0.0)));
}

void print_listening(std::ostream& out, const std::string& name,
                     const std::string& where, const runtime& rt) {
  out << name << ": listening on " << where << " (backend "
      << rt.backend_name() << ", " << rt.drivers() << " driver thread(s))"
      << std::endl;
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
  // The one `catch_stop_signals` made (kept open for a later serve), else
  // a new one.
  int caught = opts.signals ? caught_fd.load() : -1;
  fd_closer own{opts.signals && caught < 0 ? signalfd(-1, &set, SFD_CLOEXEC)
                                           : -1};
  int sig_fd = caught >= 0 ? caught : own.fd;
  int stop_fd = opts.stop ? opts.stop->native_handle() : -1;
  auto first = wait_stop(sig_fd, stop_fd, nullptr);
  std::ostringstream msg;
  msg << (first > 0 ? signal_name(first) : "stop requested")
      << ", draining (up to "
      << static_cast<double>(opts.drain_timeout.count()) / 1000 << " s"
      << (sig_fd >= 0 ? "; signal again to exit now)" : ")");
  say(msg.str());
  // A second signal ends the process at once, whatever the drain is doing.
  std::thread watcher;
  std::atomic<bool> done{false};
  if (sig_fd >= 0)
    watcher = std::thread{[&] {
      auto again = wait_stop(sig_fd, -1, &done);
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
    done = true;
    watcher.join();
  }
  return res;
}

int serve(runtime& rt, std::vector<caf::actor> listeners, serve_options opts) {
  return serve_counted(rt, std::move(listeners), std::move(opts)).status;
}

} // namespace actio::net
