#pragma once

/// The send queue of a datagram socket and the datagram requests whose
/// admission every backend does the same way. Internal, like
/// drivers/detail/write_queue.hpp (completions go out through `out`).

#include <cerrno>
#include <string>
#include <utility>

#include <sys/socket.h>

#include "actio/drivers/detail/write_queue.hpp"

namespace actio::detail {

/// One datagram to send: the write, and its destination (`len == 0`: the
/// connected peer).
struct datagram_req {
  write_req w; ///< `w.done`: bytes sent, once sent
  sockaddr_storage to;
  socklen_t len;
};

/// Datagrams waiting to be sent, in order, at most `limits.max_queued`.
class datagram_queue {
public:
  datagram_limits limits;

  bool empty() const noexcept {
    return reqs_.empty();
  }

  datagram_req& front() noexcept {
    return reqs_.front();
  }

  void pop_front() {
    reqs_.pop_front();
  }

  /// Puts a datagram taken out with `front`/`pop_front` back at the head,
  /// to be sent first.
  void retry_front(datagram_req&& d) {
    reqs_.push_front(std::move(d));
  }

  /// `send_to`'s admission: queues `d`, or completes it at once when the
  /// socket is no datagram socket (`invalid_argument`) or the queue is full
  /// (`write_queue_full`). True if queued.
  template <class Out>
  bool push(Out&& out, socket_id sock, bool datagram_socket,
            datagram_req&& d) {
    if (!datagram_socket) {
      complete(out, sock, d.w,
               make_actio_error(errc::invalid_argument,
                                "send_to: not a datagram socket"));
      return false;
    }
    if (reqs_.size() >= limits.max_queued) {
      complete(out, sock, d.w,
               make_actio_error(errc::write_queue_full,
                                "send_to: " + std::to_string(reqs_.size())
                                  + " datagrams queued, limit "
                                  + std::to_string(limits.max_queued)));
      return false;
    }
    reqs_.push_back(std::move(d));
    return true;
  }

  /// Fails every queued datagram with `reason`; an empty reason (a plain
  /// close) cancels them.
  template <class Out>
  void fail_all(Out&& out, socket_id sock, const caf::error& reason) {
    while (!reqs_.empty()) {
      complete(out, sock, reqs_.front().w,
               close_error(reason, "send cancelled by close"));
      reqs_.pop_front();
    }
  }

private:
  fifo<datagram_req> reqs_;
};

/// Marks the stream slot a backend's `adopt` just made (`id`, an expected
/// socket_id) as a datagram socket with `limits`; `driver::adopt_datagram`
/// of every backend is `adopt` followed by this.
template <class Slots>
caf::expected<socket_id> as_datagram(Slots& slots, caf::expected<socket_id> id,
                                     datagram_limits limits) {
  if (id) {
    auto& s = slots[static_cast<uint32_t>(*id)];
    s.datagram = true;
    s.dq.limits = limits;
  }
  return id;
}

/// `driver::connect_datagram` for a backend's socket `s` (null: unknown or
/// closing): connecting a datagram socket only records the peer, so it
/// never blocks and every backend makes the plain call. `Slot` has `fd` and
/// `datagram`.
template <class Slot>
caf::error connect_datagram(const Slot* s, const sockaddr_storage& to,
                            socklen_t len) {
  if (s == nullptr)
    return make_actio_error(errc::closed, "connect: socket is closed");
  if (!s->datagram)
    return make_actio_error(errc::invalid_argument,
                            "connect: not a datagram socket");
  if (::connect(s->fd, reinterpret_cast<const sockaddr*>(&to), len) < 0)
    return make_errno_error("connect", errno);
  return caf::none;
}

} // namespace actio::detail
