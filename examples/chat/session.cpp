#include "session.hpp"

#include <algorithm>
#include <string>

#include "actio/drivers/errc.hpp"
#include "client.hpp"
#include "clean_text.hpp"
#include "text_protocol.hpp"

namespace chat {

caf::behavior session(actio::net::connection* self, caf::actor registry,
                      session_options opts) {
  actio::io::framed_options fo;
  fo.read_window = 64 * 1024;
  // Output is not a reason to stop reading: a client whose unsent output
  // passes --max-queue is disconnected instead (`emit`).
  fo.max_bytes_in_flight = opts.max_queue + 1;
  auto make = [opts] { return client_codec{opts.max_line, opts.max_frame}; };
  auto user = [registry, opts](client_self s) {
    return std::make_shared<client>(s, registry, opts)->make();
  };
  return actio::io::framed_with<client_codec>(make, user, fo)(self);
}

client::client(client_self self, caf::actor registry,
               const session_options& opts)
  : self_(self), registry_(std::move(registry)),
    me_(caf::actor_cast<caf::actor>(self.connection())), opts_(opts),
    bucket_(opts.rate, opts.burst), slot_(opts.clients) {
}

caf::behavior client::make() {
  // A client that says nothing at first is a text client waiting to be
  // told how to start (nc, telnet): see `decide`.
  welcome_timer_ = conn()->start_timer(welcome_delay);
  if (opts_.idle_timeout.count() > 0) {
    quiet_since_ = actio::driver::clock::now();
    idle_timer_ = conn()->start_timer(opts_.idle_timeout / 4);
  }
  auto me = shared_from_this();
  return {
    [me](client_input& in) { me->on_input(in); },
    [me](const actio::io::decode_failed& f) { me->on_decode_failed(f.reason); },
    [me](const event_msg& ev) { me->emit(*ev); },
    [me](const actio::draining&) {
      me->fail(pb::Error::SHUTTING_DOWN, "the server is shutting down");
    },
    [me](const actio::read_closed&) { // every request before it served
      me->closing_ = true;
      me->leave_room();
      me->self_.finish(); // shut the write side, close when that is done
    },
    [me](const actio::timer_expired& t) { me->on_timer(t.id); },
  };
}

// -- input --------------------------------------------------------------------

void client::on_input(client_input& in) {
  switch (in.kind) {
    case client_input::mode_known:
      return decide(self_.codec().current());
    case client_input::line:
      return on_line(in.text);
    default: {
      job j;
      j.req = std::move(in.req.value);
      if (j.req.kind_case() == pb::Request::KIND_NOT_SET)
        return on_decode_failed(
          actio::make_actio_error(actio::errc::malformed, "no request"));
      if (j.req.has_say()) // valid UTF-8 (it parsed), controls maybe
        j.req.mutable_say()->set_text(clean_text(j.req.say().text()));
      return accept(std::move(j));
    }
  }
}

void client::on_line(const std::string& raw) {
  auto p = parse_text_line(clean_text(raw));
  job j;
  switch (p.kind) {
    case parsed_line::empty:
      return;
    case parsed_line::request:
      j.req = std::move(p.req);
      break;
    case parsed_line::help:
      j.help = true;
      break;
    case parsed_line::unknown: {
      pb::Event ev;
      ev.mutable_error()->set_code(pb::Error::UNKNOWN_COMMAND);
      ev.mutable_error()->set_text(std::string{unknown_command_text});
      j.reply = std::move(ev);
      break;
    }
  }
  accept(std::move(j));
}

/// Bad input, after the requests before it (the framed connection reads
/// nothing after it): said in order, then the end. A client that hung up
/// inside a frame just leaves.
void client::on_decode_failed(const caf::error& err) {
  auto code = pb::Error::MALFORMED;
  std::string text = "frame is not a chat Request";
  if (err == actio::errc::truncated) {
    leave_room();
    return self_.finish();
  }
  if (err == actio::errc::too_long) {
    code = pb::Error::TOO_LONG;
    text = self_.codec().current() == mode::text
             ? "line longer than " + std::to_string(opts_.max_line) + " bytes"
             : "frame longer than " + std::to_string(opts_.max_frame)
                 + " bytes";
  }
  job j;
  j.fail = true;
  j.reply.emplace();
  j.reply->mutable_error()->set_code(code);
  j.reply->mutable_error()->set_text(std::move(text));
  accept(std::move(j));
}

// -- timers -------------------------------------------------------------------

void client::on_timer(actio::op_id id) {
  if (id == linger_timer_) {
    self_.close();
  } else if (id == token_timer_) {
    token_timer_ = 0;
    done();
  } else if (id == welcome_timer_) {
    welcome_timer_ = 0;
    if (self_.codec().set_mode(mode::text))
      decide(mode::text);
  } else if (id == idle_timer_) {
    check_idle();
  }
}

uint64_t client::activity() const noexcept {
  return self_.bytes_received() + self_.bytes_sent();
}

/// Idle: no byte read and none written for --idle-timeout (checked every
/// quarter of it, so it ends 1 to 1.25 times that after the last byte).
void client::check_idle() {
  idle_timer_ = 0;
  if (closing_)
    return;
  auto now = actio::driver::clock::now();
  if (activity() != idle_seen_) {
    idle_seen_ = activity();
    quiet_since_ = now;
  } else if (now - quiet_since_ >= opts_.idle_timeout) {
    auto ms = opts_.idle_timeout.count();
    return fail(pb::Error::IDLE_TIMEOUT,
                "idle for "
                  + (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                                    : std::to_string(ms) + " ms"));
  }
  idle_timer_ = conn()->start_timer(opts_.idle_timeout / 4);
}

/// The client's mode is known: a text client is welcomed, a client over
/// --max-clients told so in its mode and disconnected.
void client::decide(mode m) {
  if (welcome_timer_ != 0) {
    conn()->cancel_timer(welcome_timer_);
    welcome_timer_ = 0;
  }
  if (opts_.max_clients > 0 && slot_.number() > opts_.max_clients) {
    slot_.release(); // only told: the place is not taken
    return fail(pb::Error::TOO_MANY_CLIENTS,
                "the server has its maximum of "
                  + std::to_string(opts_.max_clients)
                  + " clients; try again later");
  }
  if (m == mode::text)
    emit_line(welcome_line);
}

// -- output and the end -------------------------------------------------------

/// An event in the client's mode. A client whose unsent output passes
/// --max-queue does not read: it is disconnected, not buffered for.
void client::emit(const pb::Event& ev) {
  if (!self_.send(ev) || self_.unacknowledged() <= opts_.max_queue)
    return;
  leave_room();
  closing_ = true;
  self_.close();
}

/// A line for a text client only (the welcome, /help).
void client::emit_line(std::string_view line) {
  self_.send(notice{line});
}

void client::error(pb::Error::Code code, std::string text) {
  pb::Event ev;
  ev.mutable_error()->set_code(code);
  ev.mutable_error()->set_text(std::move(text));
  emit(ev);
}

/// An error that ends the connection: said, then the write side shut.
void client::fail(pb::Error::Code code, std::string text) {
  if (closing_)
    return;
  leave_room();
  error(code, std::move(text));
  finish();
}

/// No more requests; shut the write side after what is queued and close
/// when the client closes (reading on to its EOF), or after `linger`.
void client::finish() {
  if (closing_)
    return;
  closing_ = true;
  next_.reset();
  self_.finish();
  linger_timer_ = conn()->start_timer(opts_.linger);
}

void client::leave_room() {
  if (room_) {
    leave(room_);
    room_ = nullptr;
    room_name_.clear();
  }
}

/// Leaves `room`, not waiting. A request all the same: the room answers
/// requests only (see atoms.hpp).
void client::leave(const caf::actor& room) {
  conn()->request(room, caf::infinite, leave_atom::value, me_)
    .then([](bool) {}, [](caf::error&) {});
}

} // namespace chat
