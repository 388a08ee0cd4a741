#include "actio/net/connection.hpp"

#include <caf/message_view.hpp>
#include <caf/result.hpp>

#include "actio/actors/errc.hpp"
#include "actio/net/atoms.hpp"
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
             || xs.match_element<connection_closed>(0));
}

caf::error closed_error(const char* what) {
  return make_actio_error(errc::closed,
                          std::string{what} + ": connection is closed");
}

} // namespace

connection::connection(caf::actor_config& cfg, owned_fd fd,
                       connection_factory factory, connection_options opts,
                       std::optional<connect_target> target)
  : super(cfg), fd_(std::move(fd)), factory_(std::move(factory)),
    opts_(opts), target_(target) {
  set_default_handler(
    [](caf::scheduled_actor* self,
       caf::message_view& x) -> caf::result<caf::message> {
      if (is_event(x.content()))
        return caf::message{};
      return caf::print_and_drop(self, x);
    });
}

caf::behavior connection::make_behavior() {
  peer_ = peer_name(fd_.get());
  if (opts_.nodelay)
    set_nodelay(fd_.get(), true); // best effort: fails only on odd sockets
  auto sock = io().adopt(fd_.release(), ctrl(), opts_.limits);
  if (!sock) {
    quit(sock.error());
    return {};
  }
  sock_ = *sock;
  if (target_)
    io().connect(sock_, target_->addr, target_->len, next_op_++);
  auto user = factory_ ? factory_(this) : caf::behavior{};
  caf::message_handler protocol{
    [this](write_atom, byte_buffer& buf) -> caf::result<size_t> {
      auto rp = make_response_promise();
      if (sock_ == 0 || !io().send(sock_, next_op_++, std::move(buf), rp))
        return closed_error("write");
      return rp;
    },
    [this](shutdown_atom) -> caf::result<void> {
      auto rp = make_response_promise();
      if (sock_ == 0 || !io().shutdown_write(sock_, next_op_++, rp))
        return closed_error("shutdown");
      return rp;
    },
    [this](close_atom) {
      close();
    },
    [this](grant_atom, size_t bytes) {
      grant(bytes);
    },
  };
  return caf::message_handler{user.as_behavior_impl()}.or_else(protocol);
}

void connection::grant(size_t bytes) {
  if (sock_ != 0)
    io().grant(sock_, bytes);
}

op_id connection::write(byte_buffer buf) {
  auto id = next_op_++;
  if (sock_ == 0 || !io().send(sock_, id, std::move(buf)))
    to_self(write_completed{sock_, id, 0, closed_error("write")});
  return id;
}

op_id connection::shutdown_write() {
  auto id = next_op_++;
  if (sock_ == 0 || !io().shutdown_write(sock_, id))
    to_self(shutdown_completed{sock_, id, closed_error("shutdown")});
  return id;
}

void connection::close() {
  if (sock_ != 0)
    io().close(sock_, caf::error{});
}

op_id connection::start_timer(driver::clock::duration delay) {
  return io().start_timer(delay, ctrl());
}

bool connection::cancel_timer(op_id id) {
  return io().cancel_timer(id);
}

caf::invoke_message_result connection::consume(caf::mailbox_element& x) {
  auto& xs = x.content();
  bool last = xs.size() == 1 && xs.match_element<connection_closed>(0)
              && xs.get_as<connection_closed>(0).sock == sock_;
  bool failed_connect = xs.size() == 1 && xs.match_element<connected>(0)
                        && xs.get_as<connected>(0).reason;
  if (last)
    sock_ = 0; // the driver already released it
  auto result = super::consume(x);
  if (last && !stay_)
    quit();
  else if (failed_connect)
    close(); // the behaviour saw why; connection_closed follows
  return result;
}

void connection::on_exit() {
  // Exiting (shutdown, exit message, error) with the socket open: close it
  // so pending requests from other actors get their `cancelled` responses
  // and the driver drops its reference to us.
  if (sock_ != 0 && unit().on_thread()) {
    auto sock = sock_;
    sock_ = 0;
    io().close(sock, make_actio_error(errc::shutting_down, "connection exited"));
  }
  factory_ = nullptr;
  super::on_exit();
}

} // namespace actio::net
