#pragma once

/// Accept back-off, the same in every backend. When accept fails for want
/// of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything
/// unexpected, treated the same) the connection stays in the kernel's
/// backlog; retrying at once would spin, since the listener stays ready. So
/// the listener's owner hears `accept_paused` once, the listener waits
/// (5 ms, doubling up to 500 ms, reset by the next accepted connection) and
/// retries when its timer fires or as soon as the driver closes one of its
/// descriptors, whichever comes first; `accept_resumed` follows the first
/// connection accepted after that.
///
/// Internal to the backends (not installed). The backend owns the timer and
/// the re-arming; this keeps the state and the rules.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>


#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/types.hpp"

namespace actio::detail {

/// The back-off state of one listener (a member of the backend's slot).
struct accept_state {
  bool waiting = false;  ///< backing off: no accept until `end`
  bool reported = false; ///< `accept_paused` told, `accept_resumed` not yet
  std::chrono::milliseconds delay{0}; ///< the last wait, 0 after a success
};

/// The back-off rules, and how many listeners of one driver wait.
class accept_backoff {
public:
  static constexpr auto min_delay = std::chrono::milliseconds{5};
  static constexpr auto max_delay = std::chrono::milliseconds{500};

  /// Listener `sock` accepted a connection: after a pause its owner hears
  /// `accept_resumed` (through `out`, as for the write queue), and the next
  /// failure waits the shortest delay again.
  template <class Out>
  void accepted(accept_state& s, Out&& out, socket_id sock) {
    if (s.reported) {
      s.reported = false;
      out(accept_resumed{sock});
    }
    s.delay = std::chrono::milliseconds{0};
  }

  /// Accept on `sock` failed with `err` (an errno, not a transient one):
  /// the owner hears `accept_paused` once, and the listener waits. Returns
  /// how long (the caller starts a timer that calls `end`), or nullopt when
  /// it waits already.
  template <class Out>
  std::optional<std::chrono::milliseconds>
  failed(accept_state& s, Out&& out, socket_id sock, int err) {
    if (!s.reported) {
      s.reported = true;
      out(accept_paused{sock, make_errno_error("accept", err)});
    }
    if (s.waiting)
      return std::nullopt;
    s.waiting = true;
    ++waiting_;
    s.delay = std::clamp(s.delay * 2, min_delay, max_delay);
    return s.delay;
  }

  /// Ends the wait of `s` (its timer fired, or it closes). True if it was
  /// waiting: accept again, unless closing.
  bool end(accept_state& s) noexcept {
    if (!s.waiting)
      return false;
    s.waiting = false;
    --waiting_;
    return true;
  }

  /// The driver closed a descriptor: every waiting listener in `slots` (a
  /// slot_table whose slots have `fd` and `accept`) ends its wait, and
  /// `rearm(index)` runs for each.
  template <class Slots, class Rearm>
  void retry_all(Slots& slots, Rearm&& rearm) {
    for (uint32_t i = 0; waiting_ > 0 && i < slots.size(); ++i) {
      auto& s = slots[i];
      if (s.fd >= 0 && end(s.accept))
        rearm(i);
    }
  }

private:
  size_t waiting_ = 0; ///< listeners waiting
};

} // namespace actio::detail
