#include "actio/net/connection.hpp"

#include <caf/message_view.hpp>
#include <caf/result.hpp>

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

#include <caf/skip.hpp>

#include "actio/actors/detail/report.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/detail/connection_common.hpp"
#include "actio/net/detail/tls_state.hpp"
#include "actio/net/socket.hpp"

namespace actio::net {

namespace {

/// True for driver events a behaviour may leave unhandled.
bool is_event(const caf::type_erased_tuple& xs) {
  return xs.size() == 1
         && (xs.match_element<received>(0) || xs.match_element<read_closed>(0)
             || xs.match_element<write_completed>(0)
             || xs.match_element<shutdown_completed>(0)
             || xs.match_element<write_paused>(0)
             || xs.match_element<write_resumed>(0)
             || xs.match_element<timer_expired>(0)
             || xs.match_element<connected>(0)
             || xs.match_element<draining>(0)
             || xs.match_element<connection_closed>(0)
             // a resolver's answer after the connect timed out or closed:
             || xs.match_element<resolved>(0));
}

caf::error closed_error(const char* what) {
  return make_actio_error(errc::closed,
                          std::string{what} + ": connection is closed");
}

} // namespace

namespace detail {

caf::result<caf::message> drop_events(caf::scheduled_actor* self,
                                      caf::message_view& x) {
  if (is_event(x.content()))
    return caf::message{};
  return static_cast<connection*>(self)->fail(
    "got a message it cannot handle: " + to_string(x.content()), true);
}

bool is_tcp(const sockaddr_storage& addr) {
  return addr.ss_family == AF_INET || addr.ss_family == AF_INET6;
}

} // namespace detail

connection::connection(caf::actor_config& cfg, owned_fd fd,
                       connection_factory factory, connection_options opts)
  : super(cfg), fd_(std::move(fd)), factory_(std::move(factory)),
    opts_(opts) {
  set_default_handler(detail::drop_events);
  set_failure_handler();
}

connection::connection(caf::actor_config& cfg, connect_request req,
                       connection_factory factory, connection_options opts)
  : super(cfg), factory_(std::move(factory)), opts_(opts),
    request_(std::move(req)) {
  // Requests from other actors wait in the mailbox until the connection is
  // up (or failed); the user's behaviour then answers them.
  set_default_handler(caf::skip);
  set_failure_handler();
}

void connection::set_failure_handler() {
  set_exception_handler([](caf::scheduled_actor* self, std::exception_ptr& e) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
    }
    return static_cast<connection*>(self)->fail("threw: " + what, false);
  });
}

caf::error connection::fail(const std::string& what, bool close_now) {
  auto text = "connection to " + peer_ + " failed: its behaviour " + what;
  actio::detail::report_failure("connection failed", text, peer_);
  auto err = make_actio_error(errc::actor_failed, std::move(text));
  if (!failure_)
    failure_ = err;
  // Close only this connection: queued writes and pending requests complete
  // with the failure, then `connection_closed` ends the actor. After a throw
  // CAF ends the actor at once, and on_exit closes the socket.
  if (close_now && sock_ != 0)
    io().close(sock_, err);
  return err;
}

caf::behavior connection::make_behavior() {
  if (request_) {
    peer_ = request_->name;
    connect_timer_ = start_timer(opts_.connect_timeout);
    if (!request_->host.empty())
      resolve_async(system(), request_->host, request_->port,
                    caf::actor_cast<caf::actor>(this));
    else
      try_next_target();
    return connecting_behavior();
  }
  peer_ = peer_name(fd_.get());
  // Best effort: options were validated; failing here means an odd socket.
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &len);
  apply_socket_options(fd_.get(), opts_.socket, detail::is_tcp(local));
  native_fd_ = fd_.get();
  auto sock = io().adopt(fd_.release(), ctrl(), opts_.limits);
  if (!sock) {
    quit(sock.error());
    return {};
  }
  sock_ = *sock;
  if (!opts_.tls)
    return user_behavior();
  tls_start(0); // before the behaviour: its first grant is plaintext credit
  auto bhvr = user_behavior();
  tls_begin();
  return bhvr;
}

caf::behavior connection::user_behavior() {
  if (sock_ != 0 && opts_.timeouts.any()) {
    watch_.emplace(opts_.timeouts, driver::clock::now());
    watch_timer_ = start_timer(watch_->period());
  }
  auto user = factory_ ? factory_(this) : caf::behavior{};
  caf::message_handler protocol{
    // (Check before making the promise: once made, it owns the reply, and
    // a returned error would go nowhere.)
    [this](write_atom, byte_buffer& buf) -> caf::result<size_t> {
      if (sock_ == 0)
        return closed_error("write");
      auto rp = make_response_promise();
      if (tls_) {
        tls_write(next_op_++, std::move(buf), &rp);
        return rp;
      }
      if (!io().send(sock_, next_op_++, std::move(buf), rp))
        rp.deliver(closed_error("write"));
      return rp;
    },
    [this](shutdown_atom) -> caf::result<void> {
      if (sock_ == 0)
        return closed_error("shutdown");
      auto rp = make_response_promise();
      if (tls_) {
        tls_shutdown(next_op_++, &rp);
        return rp;
      }
      if (!io().shutdown_write(sock_, next_op_++, rp))
        rp.deliver(closed_error("shutdown"));
      return rp;
    },
    [this](close_atom) {
      close();
    },
    [this](grant_atom, size_t bytes) {
      grant(bytes);
    },
    [this](drain_atom, caf::timespan deadline) {
      start_drain(deadline);
    },
  };
  return caf::message_handler{user.as_behavior_impl()}.or_else(protocol);
}

void connection::grant(size_t bytes) {
  if (sock_ != 0 && tls_)
    tls_grant(bytes);
  else if (sock_ != 0)
    io().grant(sock_, bytes);
}

op_id connection::write(byte_buffer buf) {
  auto id = next_op_++;
  if (sock_ != 0 && tls_)
    tls_write(id, std::move(buf), nullptr);
  else if (sock_ == 0 || !io().send(sock_, id, std::move(buf)))
    to_self(write_completed{sock_, id, 0, closed_error("write")});
  return id;
}

op_id connection::shutdown_write() {
  auto id = next_op_++;
  if (sock_ != 0 && tls_)
    tls_shutdown(id, nullptr);
  else if (sock_ == 0 || !io().shutdown_write(sock_, id))
    to_self(shutdown_completed{sock_, id, closed_error("shutdown")});
  return id;
}

void connection::close() {
  if (sock_ != 0) // a failed TLS session closes with its reason
    io().close(sock_, tls_ ? tls_->failure : caf::error{});
}

void connection::finish() {
  if (finishing_ || sock_ == 0)
    return;
  finishing_ = true;
  // Reading must go on to the peer's EOF whatever credit was left.
  constexpr size_t finish_credit = 64 * 1024;
  grant(finish_credit);
  finish_op_ = shutdown_write();
}

bool connection::finish_step(const caf::type_erased_tuple& xs) {
  if (xs.size() != 1)
    return false;
  if (xs.match_element<read_closed>(0)
      && xs.get_as<read_closed>(0).sock == sock_ && sock_ != 0) {
    peer_eof_ = true;
    if (!finishing_)
      return false; // the behaviour sees it (and may call finish())
    if (finish_shut_)
      close();
    return true;
  }
  if (!finishing_)
    return false;
  if (xs.match_element<received>(0)) {
    grant(xs.get_as<received>(0).bytes.size()); // discarded
    return true;
  }
  if (xs.match_element<shutdown_completed>(0)
      && xs.get_as<shutdown_completed>(0).id == finish_op_) {
    finish_shut_ = true;
    if (xs.get_as<shutdown_completed>(0).reason || peer_eof_)
      close();
    return true;
  }
  return false;
}

op_id connection::start_timer(driver::clock::duration delay) {
  return io().start_timer(delay, ctrl());
}

bool connection::cancel_timer(op_id id) {
  return io().cancel_timer(id);
}

void connection::check_timeouts() {
  watch_timer_ = 0;
  auto p = sock_ != 0 ? io().progress(sock_) : std::nullopt;
  if (!p)
    return;
  if (auto code = watch_->check(*p, driver::clock::now())) {
    auto ms = code == errc::idle_timeout   ? opts_.timeouts.idle
              : code == errc::read_timeout ? opts_.timeouts.read
                                           : opts_.timeouts.write;
    std::string text = "connection to ";
    text.append(peer_).append(": no ");
    text.append(code == errc::idle_timeout   ? "reads or writes"
                : code == errc::read_timeout ? "bytes arrived"
                                             : "queued bytes sent");
    text.append(" for ").append(std::to_string(ms.count())).append(" ms");
    io().close(sock_, make_actio_error(*code, std::move(text)));
    return;
  }
  watch_timer_ = start_timer(watch_->period());
}

void connection::start_drain(caf::timespan deadline) {
  if (draining_ || sock_ == 0)
    return;
  draining_ = true;
  drain_timer_ = start_timer(
    std::chrono::duration_cast<driver::clock::duration>(deadline));
  to_self(draining{deadline});
}

caf::invoke_message_result connection::consume(caf::mailbox_element& x) {
  auto& xs = x.content();
  if (drain_timer_ != 0 && xs.size() == 1
      && xs.match_element<timer_expired>(0)
      && xs.get_as<timer_expired>(0).id == drain_timer_) {
    drain_timer_ = 0;
    if (sock_ != 0) {
      forced_ = true;
      io().close(sock_, make_actio_error(errc::shutting_down,
                                         "connection to " + peer_
                                           + ": drain deadline passed"));
    }
    return caf::invoke_message_result::consumed;
  }
  if (watch_timer_ != 0 && xs.size() == 1
      && xs.match_element<timer_expired>(0)
      && xs.get_as<timer_expired>(0).id == watch_timer_) {
    check_timeouts(); // ours: the behaviour never sees it
    return caf::invoke_message_result::consumed;
  }
  if (stale_timer_ != 0 && xs.size() == 1 && xs.match_element<timer_expired>(0)
      && xs.get_as<timer_expired>(0).id == stale_timer_) {
    stale_timer_ = 0; // our connect deadline, not the behaviour's timer
    return caf::invoke_message_result::consumed;
  }
  if (tls_ && tls_intercept(x))
    return caf::invoke_message_result::consumed;
  return deliver(x);
}

caf::invoke_message_result connection::deliver(caf::mailbox_element& x) {
  auto& xs = x.content();
  if (finish_step(xs))
    return caf::invoke_message_result::consumed;
  bool last = xs.size() == 1 && xs.match_element<connection_closed>(0)
              && xs.get_as<connection_closed>(0).sock == sock_;
  bool failed_connect = xs.size() == 1 && xs.match_element<connected>(0)
                        && xs.get_as<connected>(0).reason && sock_ != 0;
  if (last) {
    sock_ = 0; // the driver already released it
    for (auto* t : {&watch_timer_, &drain_timer_})
      if (*t != 0) {
        cancel_timer(*t);
        *t = 0;
      }
  }
  auto result = super::consume(x);
  if (last && !stay_)
    quit(forced_   ? make_actio_error(errc::shutting_down, "drain deadline passed")
         : failure_ ? failure_
                    : caf::error{});
  else if (failed_connect)
    close(); // the behaviour saw why; connection_closed follows
  return result;
}

void connection::on_exit() {
  // Exiting (shutdown, exit message, error) with the socket open: close it
  // so pending requests from other actors get their `cancelled` responses
  // and the driver drops its reference to us.
  if (attempt_ != 0 && unit().on_thread()) {
    io().close(attempt_, caf::error{});
    attempt_ = 0;
  }
  if (sock_ != 0 && unit().on_thread()) {
    auto sock = sock_;
    sock_ = 0;
    io().close(sock, failure_ ? failure_
                              : make_actio_error(errc::shutting_down,
                                                 "connection exited"));
  }
  if (unit().on_thread())
    for (auto* t : {&watch_timer_, &drain_timer_})
      if (*t != 0) {
        cancel_timer(*t);
        *t = 0;
      }
  if (tls_) { // requests from other actors still get their answer
    auto err = make_actio_error(errc::shutting_down, "connection exited");
    for (auto& op : tls_->pending)
      if (op.has_rp)
        op.rp.deliver(err);
    for (auto& [id, op] : tls_->writes)
      if (op.has_rp)
        op.rp.deliver(err);
    tls_.reset();
  }
  factory_ = nullptr;
  super::on_exit();
}

} // namespace actio::net
