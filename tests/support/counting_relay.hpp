#pragma once

// A byte endpoint in front of another that records what reaches it (write
// sizes, recv sizes, flushes, shutdowns, writes in flight) and can fail
// writes on purpose. For tests of buffered readers and writers.

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/endpoint.hpp"

namespace actio::test {

/// `(relay_sync_atom) -> unit`: answered at once, so everything sent to the
/// relay before it has been seen (local sends enqueue in order).
using relay_sync_atom = caf::atom_constant<caf::atom("rl_sync")>;

struct relay_log {
  std::mutex mtx;
  std::vector<size_t> writes; // sizes, in arrival order
  std::vector<size_t> recvs;  // max of each recv
  size_t flushes = 0;
  size_t shutdowns = 0;
  size_t inflight_writes = 0;
  size_t max_inflight_writes = 0;
  /// Writes with this index or later fail with connection_reset (-1: none).
  long fail_writes_from = -1;

  template <class F>
  auto with(F f) {
    std::lock_guard<std::mutex> guard{mtx};
    return f(*this);
  }
};

class counting_relay : public caf::event_based_actor {
public:
  counting_relay(caf::actor_config& cfg, caf::actor target,
                 std::shared_ptr<relay_log> log)
    : caf::event_based_actor(cfg), target_(std::move(target)),
      log_(std::move(log)) {
  }

protected:
  caf::behavior make_behavior() override {
    return {
      [this](net::write_atom, byte_buffer& bytes) -> caf::result<caf::message> {
        bool fail = log_->with([&](relay_log& l) {
          l.writes.push_back(bytes.size());
          auto idx = static_cast<long>(l.writes.size()) - 1;
          if (l.fail_writes_from >= 0 && idx >= l.fail_writes_from)
            return true;
          ++l.inflight_writes;
          l.max_inflight_writes = std::max(l.max_inflight_writes,
                                           l.inflight_writes);
          return false;
        });
        if (fail)
          return make_actio_error(errc::connection_reset, "relay: failing");
        auto rp = make_response_promise();
        auto log = log_;
        request(target_, caf::infinite, net::write_atom::value, std::move(bytes))
          .then(
            [rp, log](size_t n) mutable {
              log->with([](relay_log& l) { return --l.inflight_writes; });
              rp.deliver(n);
            },
            [rp, log](caf::error& err) mutable {
              log->with([](relay_log& l) { return --l.inflight_writes; });
              rp.deliver(std::move(err));
            });
        return rp;
      },
      [this](net::recv_atom, size_t max) -> caf::result<caf::message> {
        log_->with([&](relay_log& l) {
          l.recvs.push_back(max);
          return 0;
        });
        return delegate(target_, net::recv_atom::value, max);
      },
      [this](net::flush_atom) -> caf::result<caf::message> {
        log_->with([](relay_log& l) { return ++l.flushes; });
        return delegate(target_, net::flush_atom::value);
      },
      [this](net::shutdown_atom) -> caf::result<caf::message> {
        log_->with([](relay_log& l) { return ++l.shutdowns; });
        return delegate(target_, net::shutdown_atom::value);
      },
      [this](net::close_atom) -> caf::result<caf::message> {
        return delegate(target_, net::close_atom::value);
      },
      [](relay_sync_atom) {},
    };
  }

private:
  caf::actor target_;
  std::shared_ptr<relay_log> log_;
};

} // namespace actio::test
