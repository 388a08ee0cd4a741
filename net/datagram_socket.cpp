#include "actio/net/datagram_socket.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

#include <caf/message_view.hpp>
#include <caf/result.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/log.hpp"
#include "actio/net/atoms.hpp"

namespace actio::net {

namespace {

/// True for driver events a behaviour may leave unhandled.
bool is_event(const caf::type_erased_tuple& xs) {
  return xs.size() == 1
         && (xs.match_element<datagram_received>(0)
             || xs.match_element<datagram_error>(0)
             || xs.match_element<write_completed>(0)
             || xs.match_element<timer_expired>(0)
             || xs.match_element<connection_closed>(0));
}

caf::error closed_error(const char* what) {
  return make_actio_error(errc::closed, std::string{what} + ": socket is closed");
}

caf::error not_connected() {
  return make_actio_error(errc::invalid_argument,
                          "send: socket is not connected (use send_to)");
}

} // namespace

caf::expected<int>
make_datagram_socket(int family, const net::address& local,
                     const datagram_options& opts,
                     const std::function<caf::error(int)>& setup) {
  if (opts.max_datagram == 0 || opts.max_queued == 0)
    return make_actio_error(errc::invalid_argument,
                            "datagram socket: max_datagram and max_queued "
                            "must be at least 1");
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_errno_error("socket", errno);
  auto fail = [fd](caf::error err) -> caf::expected<int> {
    ::close(fd);
    return err;
  };
  if (opts.recv_buffer > 0
      && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts.recv_buffer,
                    sizeof(opts.recv_buffer)) < 0)
    return fail(make_errno_error("setsockopt(SO_RCVBUF)", errno));
  if (opts.send_buffer > 0
      && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &opts.send_buffer,
                    sizeof(opts.send_buffer)) < 0)
    return fail(make_errno_error("setsockopt(SO_SNDBUF)", errno));
  if (setup)
    if (auto err = setup(fd))
      return fail(std::move(err));
  if (!local.empty() && ::bind(fd, local.data(), local.size()) < 0) {
    auto what = "bind " + to_string(local);
    return fail(make_errno_error(what.c_str(), errno));
  }
  return fd;
}

datagram_socket::datagram_socket(caf::actor_config& cfg, owned_fd fd,
                                 datagram_factory factory,
                                 datagram_limits limits, net::address local,
                                 std::string unlink_path)
  : super(cfg), fd_(std::move(fd)), factory_(std::move(factory)),
    limits_(limits), local_(local), unlink_path_(std::move(unlink_path)) {
  set_default_handler(
    [](caf::scheduled_actor* self,
       caf::message_view& x) -> caf::result<caf::message> {
      if (is_event(x.content()))
        return caf::message{};
      // (CAF's print_and_drop would print to stdout: the library logs.)
      auto* me = static_cast<datagram_socket*>(self);
      log::warn_limited("datagram unexpected message",
                        {"datagram", to_string(me->local_)},
                        "dropped a message it cannot handle: {}",
                        to_string(x.content()));
      return caf::sec::unexpected_message; // a request gets it as its answer
    });
}

caf::behavior datagram_socket::make_behavior() {
  auto sock = io().adopt_datagram(fd_.release(), ctrl(), limits_);
  if (!sock) {
    quit(sock.error());
    return {};
  }
  sock_ = *sock;
  auto user = factory_ ? factory_(this) : caf::behavior{};
  caf::message_handler protocol{
    [this](send_to_atom, const net::address& to,
           byte_buffer& buf) -> caf::result<size_t> {
      auto rp = make_response_promise();
      if (sock_ == 0
          || !io().send_to(sock_, next_op_++, std::move(buf), to.storage(),
                           to.size(), rp))
        return closed_error("send_to");
      return rp;
    },
    [this](send_atom, byte_buffer& buf) -> caf::result<size_t> {
      if (sock_ == 0)
        return closed_error("send");
      if (peer_.empty())
        return not_connected();
      auto rp = make_response_promise();
      if (!io().send_to(sock_, next_op_++, std::move(buf), peer_.storage(), 0,
                        rp))
        return closed_error("send");
      return rp;
    },
    [this](connect_atom, const net::address& to) -> caf::result<void> {
      if (auto err = connect(to))
        return err;
      return caf::unit;
    },
    [this](close_atom) { close(); },
    [this](grant_atom, size_t datagrams) { grant(datagrams); },
  };
  return caf::message_handler{user.as_behavior_impl()}.or_else(protocol);
}

void datagram_socket::grant(size_t datagrams) {
  if (sock_ != 0)
    io().grant(sock_, datagrams);
}

op_id datagram_socket::send_to(const net::address& to, byte_buffer buf) {
  auto id = next_op_++;
  if (sock_ == 0
      || !io().send_to(sock_, id, std::move(buf), to.storage(), to.size()))
    to_self(write_completed{sock_, id, 0, closed_error("send_to")});
  return id;
}

op_id datagram_socket::send(byte_buffer buf) {
  if (sock_ != 0 && peer_.empty()) {
    auto id = next_op_++;
    to_self(write_completed{sock_, id, 0, not_connected()});
    return id;
  }
  // Length 0: the kernel sends to the connected peer.
  auto id = next_op_++;
  if (sock_ == 0 || !io().send_to(sock_, id, std::move(buf), peer_.storage(), 0))
    to_self(write_completed{sock_, id, 0, closed_error("send")});
  return id;
}

caf::error datagram_socket::connect(const net::address& to) {
  if (sock_ == 0)
    return closed_error("connect");
  if (to.empty())
    return make_actio_error(errc::invalid_argument, "connect: empty address");
  auto err = io().connect_datagram(sock_, to.storage(), to.size());
  if (!err)
    peer_ = to;
  return err;
}

void datagram_socket::close() {
  if (sock_ != 0)
    io().close(sock_, caf::error{});
}

op_id datagram_socket::start_timer(driver::clock::duration delay) {
  return io().start_timer(delay, ctrl());
}

bool datagram_socket::cancel_timer(op_id id) {
  return io().cancel_timer(id);
}

caf::invoke_message_result datagram_socket::consume(caf::mailbox_element& x) {
  auto& xs = x.content();
  bool last = xs.size() == 1 && xs.match_element<connection_closed>(0)
              && xs.get_as<connection_closed>(0).sock == sock_;
  if (last)
    sock_ = 0; // the driver already released it
  auto result = super::consume(x);
  if (last)
    quit();
  return result;
}

void datagram_socket::on_exit() {
  // Exiting with the socket open: close it so pending requests get their
  // `cancelled` responses and the driver drops its reference to us.
  if (sock_ != 0 && unit().on_thread()) {
    auto sock = sock_;
    sock_ = 0;
    io().close(sock, make_actio_error(errc::shutting_down, "socket exited"));
  }
  // The path is ours (we bound it): remove it, so the next bind succeeds.
  if (!unlink_path_.empty()) {
    ::unlink(unlink_path_.c_str());
    unlink_path_.clear();
  }
  factory_ = nullptr;
  super::on_exit();
}

} // namespace actio::net
