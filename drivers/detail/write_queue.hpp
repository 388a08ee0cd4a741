#pragma once

/// The write side of a stream socket, as every backend keeps it: limits,
/// watermarks, completions and failing everything on close. Internal to the
/// backends (drivers/detail/ is not installed); header-only, so the hot path
/// inlines.
///
/// The queue does no I/O: the readiness core sends from its head until
/// EAGAIN, the io_uring driver takes the head out for its one send in
/// flight. Completions go out through `out`, a callable that takes the
/// event (a `drivers/completions.hpp` type) for the socket's owner (the
/// driver's `deliver`).

#include <optional>
#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>
#include <caf/unit.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/completions.hpp"
#include "actio/drivers/driver.hpp"
#include "actio/drivers/types.hpp"
#include "actio/drivers/detail/fifo.hpp"

namespace actio::detail {

/// The error of a request that a close without reason cancelled.
inline caf::error cancelled(const char* what) {
  return make_actio_error(errc::cancelled, what);
}

/// The error a close fails a pending request with: its reason, or
/// `errc::cancelled` (`what`) when it has none.
inline caf::error close_error(const caf::error& reason, const char* what) {
  return reason ? reason : cancelled(what);
}

/// One write: the bytes, and who waits for the result.
struct write_req {
  op_id id = 0;
  byte_buffer buf;
  caf::response_promise rp;
  size_t done = 0; ///< bytes handed to the kernel so far
};

/// A shutdown of the write side, waiting for the queue to drain.
struct shutdown_req {
  op_id id = 0;
  caf::response_promise rp;
};

/// Completes `w`: with `err`, or with `w.done` bytes. Through its promise
/// when one waits, else as `write_completed` to the owner.
template <class Out>
void complete(Out&& out, socket_id sock, write_req& w, caf::error err) {
  if (w.rp.pending()) {
    if (err)
      w.rp.deliver(std::move(err));
    else
      w.rp.deliver(w.done);
  } else {
    out(write_completed{sock, w.id, w.done, std::move(err)});
  }
}

/// Completes shutdown `id` like `complete` does a write.
template <class Out>
void complete_shutdown(Out&& out, socket_id sock, op_id id,
                       caf::response_promise& rp, caf::error err) {
  if (rp.pending()) {
    if (err)
      rp.deliver(std::move(err));
    else
      rp.deliver(caf::unit);
  } else {
    out(shutdown_completed{sock, id, std::move(err)});
  }
}

/// Writes waiting for the kernel, their byte count against `write_limits`,
/// and a shutdown that runs once they are done.
class write_queue {
public:
  write_limits limits;

  /// Bytes accepted and not yet handed to the kernel.
  size_t queued() const noexcept {
    return queued_;
  }

  bool empty() const noexcept {
    return reqs_.empty();
  }

  write_req& front() noexcept {
    return reqs_.front();
  }

  void pop_front() {
    reqs_.pop_front();
  }

  /// Puts a write taken out with `front`/`pop_front` back at the head, to
  /// be retried (its unsent bytes are still counted as queued).
  void retry_front(write_req&& w) {
    reqs_.push_front(std::move(w));
  }

  /// Queues `w`, or completes it at once: after a shutdown (`closed`) or
  /// beyond `limits.max_queued` (`write_queue_full`). Rising above the high
  /// watermark tells the owner `write_paused`. True if queued.
  template <class Out>
  bool push(Out&& out, socket_id sock, write_req&& w) {
    if (write_shut_ || shut_) {
      complete(out, sock, w,
               make_actio_error(errc::closed, "write: write side is shut down"));
      return false;
    }
    if (queued_ + w.buf.size() > limits.max_queued) {
      complete(out, sock, w,
               make_actio_error(errc::write_queue_full,
                                "write: " + std::to_string(queued_)
                                  + " bytes queued, limit "
                                  + std::to_string(limits.max_queued)));
      return false;
    }
    queued_ += w.buf.size();
    reqs_.push_back(std::move(w));
    if (!paused_ && queued_ > limits.high_watermark) {
      paused_ = true;
      out(write_paused{sock, queued_});
    }
    return true;
  }

  /// `n` more bytes went to the kernel.
  void sent(size_t n) noexcept {
    queued_ -= n;
  }

  /// After a pause, tells the owner `write_resumed` once the queue is at or
  /// below the low watermark.
  template <class Out>
  void maybe_resume(Out&& out, socket_id sock) {
    if (paused_ && queued_ <= limits.low_watermark) {
      paused_ = false;
      out(write_resumed{sock, queued_});
    }
  }

  /// Records a shutdown to run once the queue is empty, or completes it at
  /// once with `closed` when one ran or waits already. True if recorded.
  template <class Out>
  bool push_shutdown(Out&& out, socket_id sock, shutdown_req&& r) {
    if (write_shut_ || shut_) {
      complete_shutdown(out, sock, r.id, r.rp,
                        make_actio_error(errc::closed,
                                         "shutdown: already shut down"));
      return false;
    }
    shut_ = std::move(r);
    return true;
  }

  /// The recorded shutdown, when its turn came (no write left); the write
  /// side counts as shut from here on. Nullopt otherwise.
  std::optional<shutdown_req> take_shutdown() {
    if (!shut_ || !reqs_.empty())
      return std::nullopt;
    auto r = std::move(shut_);
    shut_.reset();
    write_shut_ = true;
    return r;
  }

  /// A shutdown is recorded and has not run yet.
  bool shutdown_pending() const noexcept {
    return shut_.has_value();
  }

  /// Fails every queued write, then the recorded shutdown, with `reason`;
  /// an empty reason (a plain close) cancels them.
  template <class Out>
  void fail_all(Out&& out, socket_id sock, const caf::error& reason) {
    while (!reqs_.empty()) {
      complete(out, sock, reqs_.front(),
               close_error(reason, "write cancelled by close"));
      reqs_.pop_front();
    }
    if (shut_) {
      auto r = std::move(*shut_);
      shut_.reset();
      complete_shutdown(out, sock, r.id, r.rp,
                        close_error(reason, "shutdown cancelled by close"));
    }
  }

private:
  fifo<write_req> reqs_;
  size_t queued_ = 0;
  bool paused_ = false;               ///< above the high watermark
  std::optional<shutdown_req> shut_;  ///< waits for the queue to drain
  bool write_shut_ = false;           ///< the shutdown ran
};

} // namespace actio::detail
