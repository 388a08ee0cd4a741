// The connect half of the connection actor (net/connection.hpp): a client
// connection resolves its host, tries each address in order until one
// connects, and then turns into the user's behaviour.

#include "actio/net/connection.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/detail/connection_common.hpp"
#include "actio/net/socket.hpp"

namespace actio::net {

namespace {

/// `reason` re-worded to name what we connect to, keeping its code.
caf::error naming(const caf::error& reason, const std::string& name) {
  std::string text = "connect to ";
  text += name;
  text += ": ";
  auto& ctx = reason.context();
  if (ctx.match_elements<std::string>()) {
    auto what = ctx.get_as<std::string>(0);
    // The driver says "connect: Connection refused": keep the reason only.
    if (auto pos = what.find(": "); pos != std::string::npos)
      what.erase(0, pos + 2);
    text += what;
  } else {
    text += to_string(reason);
  }
  return caf::error{reason.code(), reason.category(),
                    caf::make_message(std::move(text))};
}

} // namespace

caf::behavior connection::connecting_behavior() {
  return {
    [this](resolved& r) {
      if (aborting_)
        return;
      if (r.error) {
        abort_connect(std::move(r.error));
        return;
      }
      request_->targets = std::move(r.targets);
      try_next_target();
    },
    [this](connected& c) {
      if (c.sock != attempt_ || aborting_)
        return; // a cancelled attempt; its connection_closed follows
      if (!c.reason) {
        finish_connect(c.sock, c.id, caf::error{});
        return;
      }
      // This address failed: close its socket, then try the next one.
      last_error_ = naming(c.reason, request_->name);
      io().close(attempt_, caf::error{});
    },
    [this](const connection_closed& c) {
      if (c.sock != attempt_)
        return;
      attempt_ = 0;
      if (aborting_)
        abort_connect(last_error_);
      else if (c.reason) // the driver closed it (shutting down): give up
        abort_connect(naming(c.reason, request_->name));
      else
        try_next_target();
    },
    [this](const timer_expired& t) {
      if (t.id != connect_timer_)
        return;
      connect_timer_ = 0;
      auto ms = std::to_string(opts_.connect_timeout.count());
      abort_connect(make_actio_error(errc::timed_out,
                                     "connect to " + request_->name
                                       + ": timed out after " + ms + " ms"));
    },
    [this](close_atom) {
      abort_connect(make_actio_error(errc::cancelled,
                                     "connect to " + request_->name
                                       + ": closed while connecting"));
    },
  };
}

void connection::try_next_target() {
  auto& targets = request_->targets;
  while (next_target_ < targets.size()) {
    auto& t = targets[next_target_++];
    int fd = ::socket(t.addr.ss_family,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error_ = naming(make_errno_error("socket", errno), request_->name);
      continue;
    }
    if (auto err = apply_socket_options(fd, opts_.socket,
                                        detail::is_tcp(t.addr))) {
      ::close(fd);
      last_error_ = naming(err, request_->name);
      continue;
    }
    auto sock = io().adopt(fd, ctrl(), opts_.limits); // closes fd on failure
    if (!sock) {
      last_error_ = naming(sock.error(), request_->name);
      continue;
    }
    attempt_ = *sock;
    attempt_fd_ = fd;
    io().connect(attempt_, t.addr, t.len, next_op_++);
    return;
  }
  if (!last_error_)
    last_error_ = make_actio_error(errc::resolve_failed,
                                   "connect to " + request_->name
                                     + ": no address");
  abort_connect(last_error_);
}

void connection::abort_connect(caf::error reason) {
  last_error_ = std::move(reason);
  aborting_ = true;
  if (attempt_ != 0) { // finish once its connection_closed is in
    io().close(attempt_, caf::error{});
    return;
  }
  finish_connect(0, 0, last_error_);
}

void connection::finish_connect(socket_id sock, op_id op, caf::error reason) {
  if (connect_timer_ != 0 && !cancel_timer(connect_timer_))
    stale_timer_ = connect_timer_; // fired already: its message is queued
  connect_timer_ = 0;
  sock_ = sock;
  attempt_ = 0;
  if (sock != 0) {
    native_fd_ = attempt_fd_;
    peer_ = peer_name(native_fd_);
  }
  set_default_handler(detail::drop_events);
  if (sock != 0 && !reason && opts_.tls) {
    // The behaviour gets `connected` once the TLS handshake is done.
    tls_start(op);
    become(user_behavior());
    tls_begin();
    return;
  }
  become(user_behavior());
  to_self(connected{sock, op, reason});
  if (reason) // nothing to close: the end comes right after the reason
    to_self(connection_closed{0, std::move(reason)});
}

} // namespace actio::net
