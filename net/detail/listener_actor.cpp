#include "actio/net/detail/listener_actor.hpp"

#include <map>
#include <optional>
#include <vector>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/log.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/listener.hpp"

namespace actio::net {

namespace {

using namespace std::chrono_literals;

class listener_actor : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  listener_actor(caf::actor_config& cfg, runtime* rt, owned_fd fd,
                 uint16_t port, size_t max_conns, std::string label,
                 std::shared_ptr<void> keep, connection_factory factory,
                 connection_options opts)
    : super(cfg), rt_(rt), fd_(std::move(fd)), port_(port),
      max_conns_(max_conns), label_(std::move(label)), keep_(std::move(keep)),
      factory_(std::move(factory)), opts_(opts) {
  }

  const char* name() const override {
    return "actio.tcp_listener";
  }

protected:
  caf::behavior make_behavior() override {
    auto sock = io().adopt(fd_.release(), ctrl(), write_limits{});
    if (!sock) {
      quit(sock.error());
      return {};
    }
    sock_ = *sock;
    io().start_accept(sock_);
    set_down_handler([this](caf::down_msg& dm) { on_down(dm); });
    return {
      [this](accepted& acc) {
        if (drain_ || (max_conns_ > 0 && conns_.size() >= max_conns_)) {
          reject(std::move(acc.fd));
          return;
        }
        ++accepted_;
        auto conn = caf::actor_cast<caf::actor>(spawn_pinned<connection>(
          rt_->next_unit(), std::move(acc.fd), factory_, opts_));
        monitor(conn);
        conns_.emplace(conn.address(), conn);
      },
      // Under a descriptor shortage these come once per backoff round.
      [this](const accept_paused& ev) {
        log::warn_limited("listener pauses", {"listener", label_},
                          "pauses accepting: {}", system().render(ev.reason));
      },
      [this](const accept_resumed&) {
        log::warn_limited("listener resumes", {"listener", label_},
                          "accepts again");
      },
      [this](const timer_expired& t) {
        if (t.id == log_timer_) {
          log_timer_ = 0;
          log_rejected();
        }
      },
      [this](const connection_closed&) {
        sock_ = 0;
        if (drain_)
          finish_drain();
        else
          quit();
      },
      [this](close_atom) {
        if (sock_ != 0)
          io().close(sock_, caf::error{});
      },
      [this](port_atom) {
        return port_;
      },
      [this](stats_atom) {
        return listener_stats{conns_.size(), accepted_, rejected_, drained_};
      },
      [this](drain_atom, caf::timespan deadline) -> caf::result<drain_result> {
        auto rp = make_response_promise<drain_result>();
        if (!drain_) {
          drain_.emplace();
          if (sock_ != 0)
            io().close(sock_, caf::error{}); // new connects are refused now
          for (auto& kvp : conns_)
            caf::anon_send(kvp.second, drain_atom::value, deadline);
        }
        drain_->waiting.push_back(rp);
        finish_drain();
        return rp;
      },
    };
  }

  void on_exit() override {
    if (unit().on_thread()) {
      if (sock_ != 0)
        io().close(sock_, caf::error{});
      if (log_timer_ != 0)
        io().cancel_timer(log_timer_);
    }
    sock_ = 0;
    log_timer_ = 0;
    last_log_ = {};
    log_rejected(); // the count not yet logged, if any
    if (drain_)
      for (auto& rp : drain_->waiting)
        if (rp.pending())
          rp.deliver(make_actio_error(errc::shutting_down,
                                      "drain: listener exited"));
    drain_.reset();
    conns_.clear();
    factory_ = nullptr;
    keep_.reset(); // a Unix listener's path goes now
    super::on_exit();
  }

private:
  struct drain_state {
    std::vector<caf::typed_response_promise<drain_result>> waiting;
    drain_result counts;
  };

  void on_down(caf::down_msg& dm) {
    if (conns_.erase(dm.source) == 0 || !drain_)
      return;
    if (dm.reason == errc::shutting_down)
      ++drain_->counts.forced;
    else {
      ++drain_->counts.drained;
      ++drained_;
    }
    finish_drain();
  }

  /// Answers the drain once the listening socket is closed and the last
  /// connection has ended.
  void finish_drain() {
    if (!drain_ || sock_ != 0 || !conns_.empty())
      return;
    for (auto& rp : drain_->waiting)
      rp.deliver(drain_->counts);
    drain_.reset();
    quit();
  }

  /// Beyond the limit (or draining): the connection is closed right away.
  void reject(owned_fd fd) {
    fd = owned_fd{}; // closes it, unless someone else still holds it
    ++rejected_;
    ++unlogged_;
    log_rejected();
  }

  /// At most one line a second, with the count since the last line.
  void log_rejected() {
    if (unlogged_ == 0)
      return;
    auto now = driver::clock::now();
    if (now - last_log_ >= 1s) {
      log::warn({"listener", label_},
                "rejected {} connection(s){} (limit {}, {} active, {} "
                "rejected in total)",
                unlogged_, drain_ ? " while draining" : "", max_conns_,
                conns_.size(), rejected_);
      unlogged_ = 0;
      last_log_ = now;
    } else if (log_timer_ == 0) {
      log_timer_ = io().start_timer(last_log_ + 1s - now, ctrl());
    }
  }

  runtime* rt_;
  owned_fd fd_;
  uint16_t port_;
  size_t max_conns_;
  std::string label_;         ///< "port N" or "unix:PATH", for logs
  std::shared_ptr<void> keep_; ///< released when the listener ends
  connection_factory factory_;
  connection_options opts_;
  socket_id sock_ = 0;
  std::map<caf::actor_addr, caf::actor> conns_;
  size_t accepted_ = 0;
  size_t rejected_ = 0;
  size_t drained_ = 0; // ended by themselves while draining
  size_t unlogged_ = 0;
  driver::clock::time_point last_log_{};
  op_id log_timer_ = 0;
  std::optional<drain_state> drain_;
};

} // namespace

namespace detail {

caf::actor spawn_listener(runtime& rt, owned_fd fd, uint16_t port,
                          std::string label, std::shared_ptr<void> keep,
                          size_t max_connections, connection_factory factory,
                          connection_options conn_opts) {
  auto actor = spawn_pinned<listener_actor>(
    rt.next_unit(), &rt, std::move(fd), port, max_connections, std::move(label),
    std::move(keep), std::move(factory), conn_opts);
  return caf::actor_cast<caf::actor>(actor);
}

} // namespace detail

} // namespace actio::net
