#pragma once

/// Running a service until it is told to stop, with a graceful drain.
///
/// ```
/// int main(int argc, char** argv) {
///   actio::net::catch_stop_signals(); // first: before any thread starts
///   ... parse the config, start the runtime, tcp_listen(...) ...
///   return actio::net::serve(*rt, {srv->actor}, {"actio-echo", 5s, &std::cout});
/// }
/// ```
///
/// `serve` waits for SIGINT/SIGTERM (or `service_stop::request`), then
/// drains: every listener gets `(drain_atom, drain_timeout)`: it stops
/// accepting, each connection sees a `draining` event (which it may handle,
/// e.g. with `connection::finish()`, or ignore) and whatever is still open
/// at the timeout is closed. It reports the drained and forced counts, runs
/// `on_stop`, shuts down the runtime and returns 0. A second signal while
/// draining ends the process at once with status 1 (`std::_Exit`).

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actio/actors/runtime.hpp"
#include "actio/net/listener.hpp"

namespace actio::net {

/// Blocks SIGINT and SIGTERM in the calling thread, so that threads started
/// afterwards inherit the mask and `serve` can take the signals (signalfd).
/// Call it first in `main`, before the actor system starts its threads.
/// Also opens the signalfd `serve` reads (early, while descriptors are
/// plentiful).
void catch_stop_signals();

/// Undoes `catch_stop_signals` for the calling thread: SIGINT and SIGTERM
/// take their default action again (a client mode that has nothing to
/// drain and should stop at once, even in a blocking call).
void release_stop_signals();

/// A stop request from inside the program (tests, an admin command):
/// `request()` makes the `serve` that was given it drain as on a signal.
/// Thread-safe and async-signal-safe (writes an eventfd); idempotent.
class service_stop {
public:
  service_stop();
  ~service_stop();
  service_stop(const service_stop&) = delete;
  service_stop& operator=(const service_stop&) = delete;

  void request() noexcept;

  /// The eventfd `serve` polls; readable once requested.
  int native_handle() const noexcept {
    return fd_;
  }

private:
  int fd_;
};

/// How `serve` runs.
struct serve_options {
  serve_options() = default;
  serve_options(std::string name, std::chrono::milliseconds drain_timeout,
                std::ostream* out = nullptr)
    : name(std::move(name)), drain_timeout(drain_timeout), out(out) {
  }

  /// Prefix of the lines written to `out` ("NAME: SIGTERM, draining ...").
  std::string name = "actio";
  /// How long connections get to finish before they are closed.
  std::chrono::milliseconds drain_timeout{5000};
  /// Where progress lines go; none when null (the library never writes to
  /// std::cerr by itself).
  std::ostream* out = nullptr;
  /// Also stop on a programmatic request.
  std::shared_ptr<service_stop> stop;
  /// Take SIGINT/SIGTERM (blocked with `catch_stop_signals`). Without it
  /// only `stop` ends the service.
  bool signals = true;
  /// Run after the drain, before the runtime shuts down (close other
  /// actors, save state); in order.
  std::vector<std::function<void()>> on_stop;
};

/// What a drain did, summed over the listeners.
struct serve_result {
  int status = 0;      ///< 0; (a second signal never returns)
  size_t drained = 0;  ///< connections that ended by themselves
  size_t forced = 0;   ///< connections closed at the drain timeout
  size_t failed = 0;   ///< listeners whose drain failed or timed out
};

/// A `--drain-timeout` option's seconds as `serve_options::drain_timeout`
/// (negative: 0).
std::chrono::milliseconds drain_timeout_of(double seconds);

/// Writes the line a server prints once it listens, "NAME: listening on
/// WHERE (backend B, N driver thread(s))", to `out` and flushes it (tests
/// and scripts read the port from it).
void print_listening(std::ostream& out, const std::string& name,
                     const std::string& where, const runtime& rt);

/// Waits for the stop, drains `listeners` (actors that answer
/// `(drain_atom, timespan) -> drain_result`; see net/listener.hpp), runs
/// `on_stop`, shuts down `rt` and returns 0. See the file comment.
int serve(runtime& rt, std::vector<caf::actor> listeners, serve_options opts);

/// The same, returning the counts (for tests and callers that report them).
serve_result serve_counted(runtime& rt, std::vector<caf::actor> listeners,
                           serve_options opts);

/// For a process without a runtime (say, a node that only publishes
/// actors): the same, but no runtime is shut down.
serve_result serve_counted(caf::actor_system& sys,
                           std::vector<caf::actor> listeners,
                           serve_options opts);

} // namespace actio::net
