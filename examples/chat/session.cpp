#include "session.hpp"

#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actio/io/length_delimited.hpp"
#include "actio/io/lines.hpp"
#include "atoms.hpp"
#include "clean_text.hpp"
#include "read_credit.hpp"
#include "text_protocol.hpp"
#include "token_bucket.hpp"

namespace chat {

namespace {

constexpr size_t read_window = 64 * 1024;

enum class mode { unknown, text, proto };

/// One thing a client asked for, answered in the order asked: a request,
/// or an answer made here (an unknown command's error, /help).
struct job {
  pb::Request req;
  std::optional<pb::Event> reply; ///< set: emit this
  bool help = false;              ///< the /help lines
  size_t bytes = 0;               ///< of input, for the read credit
};

/// Holds one place under --max-clients while the session lives.
struct client_slot {
  std::shared_ptr<std::atomic<size_t>> count;
  size_t number = 0; ///< this client's place, 1-based
  explicit client_slot(std::shared_ptr<std::atomic<size_t>> c)
    : count(std::move(c)) {
    if (count)
      number = ++*count;
  }
  ~client_slot() {
    release();
  }
  void release() {
    if (count)
      --*count;
    count = nullptr;
  }
  client_slot(const client_slot&) = delete;
  client_slot& operator=(const client_slot&) = delete;
};

struct state {
  state(const session_options& o)
    : opts(o), lines(o.max_line), frames(o.max_frame),
      bucket(o.rate, o.burst), credit(read_window), slot(o.clients) {
  }
  session_options opts;
  mode m = mode::unknown;
  actio::io::lines_codec lines;
  actio::io::length_delimited_codec frames;
  token_bucket bucket;
  read_credit credit;
  client_slot slot;
  std::deque<job> pending;
  bool busy = false; // waiting for the registry, a room or a token
  caf::actor unsynced; // a room we said something to since its last answer
  std::string nick;
  std::string room_name;
  caf::actor room;
  uint64_t seq = 0;        // this client's messages so far
  size_t queued = 0;       // bytes written, not yet acknowledged
  bool closing = false;    // no more requests: finish and close
  bool failing = false;    // bad input seen: serve what came before, then
  pb::Error::Code fail_code = pb::Error::UNKNOWN; // fail with this
  std::string fail_text;
  bool shut = false;       // write side shutting down
  bool shut_done = false;
  bool eof = false;
  actio::op_id linger_timer = 0;
  actio::op_id token_timer = 0;
  actio::op_id welcome_timer = 0;
  actio::op_id idle_timer = 0;
  uint64_t activity = 0;      // reads and writes so far
  uint64_t idle_seen = 0;     // `activity` at the last idle check
  actio::driver::clock::time_point quiet_since;
};

class session_impl {
public:
  session_impl(actio::net::connection* self, caf::actor registry,
               session_options opts)
    : self_(self), registry_(std::move(registry)),
      me_(caf::actor_cast<caf::actor>(self)),
      st_(std::make_shared<state>(opts)) {
  }

  caf::behavior make() {
    auto& st = *st_;
    top_up();
    // A client that says nothing at first is a text client waiting to be
    // told how to start (nc, telnet): see `decide`.
    st.welcome_timer = self_->start_timer(welcome_delay);
    if (st.opts.idle_timeout.count() > 0) {
      st.quiet_since = actio::driver::clock::now();
      st.idle_timer = self_->start_timer(st.opts.idle_timeout / 4);
    }
    auto impl = std::make_shared<session_impl>(*this);
    return {
      [impl](actio::received& in) { impl->on_input(in.bytes); },
      [impl](const event_msg& ev) { impl->emit(*ev); },
      [impl](const actio::write_completed& out) {
        auto& st = *impl->st_;
        st.queued -= std::min(st.queued, out.bytes);
        if (out.reason)
          impl->self_->close();
      },
      [impl](const actio::draining&) {
        impl->fail(pb::Error::SHUTTING_DOWN, "the server is shutting down");
      },
      [impl](const actio::read_closed&) {
        impl->st_->eof = true;
        impl->maybe_end();
      },
      [impl](const actio::shutdown_completed&) {
        auto& st = *impl->st_;
        st.shut_done = true;
        if (st.eof) // else wait for the client's EOF: closing with unread
          impl->self_->close(); // input would reset the connection
      },
      [impl](const actio::timer_expired& t) { impl->on_timer(t.id); },
    };
  }

private:
  // -- timers -----------------------------------------------------------------

  void on_timer(actio::op_id id) {
    auto& st = *st_;
    if (id == st.linger_timer) {
      self_->close();
    } else if (id == st.token_timer) {
      st.token_timer = 0;
      st.busy = false;
      pump();
    } else if (id == st.welcome_timer) {
      st.welcome_timer = 0;
      if (st.m == mode::unknown)
        decide(mode::text);
    } else if (id == st.idle_timer) {
      check_idle();
    }
  }

  /// Idle: no byte read and none written for --idle-timeout (checked every
  /// quarter of it, so it ends 1 to 1.25 times that after the last byte).
  void check_idle() {
    auto& st = *st_;
    st.idle_timer = 0;
    if (st.closing)
      return;
    auto now = actio::driver::clock::now();
    if (st.activity != st.idle_seen) {
      st.idle_seen = st.activity;
      st.quiet_since = now;
    } else if (now - st.quiet_since >= st.opts.idle_timeout) {
      auto ms = st.opts.idle_timeout.count();
      return fail(pb::Error::IDLE_TIMEOUT,
                  "idle for "
                    + (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                                      : std::to_string(ms) + " ms"));
    }
    st.idle_timer = self_->start_timer(st.opts.idle_timeout / 4);
  }

  /// The client's mode is known: a text client is welcomed, a client over
  /// --max-clients told so in its mode and disconnected.
  void decide(mode m) {
    auto& st = *st_;
    st.m = m;
    if (st.welcome_timer != 0) {
      self_->cancel_timer(st.welcome_timer);
      st.welcome_timer = 0;
    }
    if (st.opts.max_clients > 0 && st.slot.number > st.opts.max_clients) {
      st.slot.release(); // only told: the place is not taken
      return fail(pb::Error::TOO_MANY_CLIENTS,
                  "the server has its maximum of "
                    + std::to_string(st.opts.max_clients)
                    + " clients; try again later");
    }
    if (m == mode::text)
      emit_line(welcome_line);
  }

  // -- input ------------------------------------------------------------------

  void on_input(const actio::byte_buffer& bytes) {
    auto& st = *st_;
    st.credit.received(bytes.size());
    if (!bytes.empty())
      ++st.activity;
    if (st.closing || st.failing || bytes.empty()) {
      // Finishing: read on to the client's EOF, drop it.
      self_->grant(bytes.size());
      return;
    }
    if (st.m == mode::unknown) {
      decide(bytes[0] == 0 ? mode::proto : mode::text);
      if (st.closing) {
        self_->grant(bytes.size());
        return;
      }
    }
    if (st.m == mode::text) {
      std::vector<std::string> lines;
      auto err = st.lines.push(bytes.data(), bytes.size(), lines);
      for (auto& line : lines)
        on_line(line);
      if (err)
        return fail_after_pending(pb::Error::TOO_LONG,
                                  "line longer than "
                                    + std::to_string(st.opts.max_line)
                                    + " bytes");
    } else {
      std::vector<actio::byte_buffer> frames;
      auto err = st.frames.push(bytes.data(), bytes.size(), frames);
      for (auto& f : frames) {
        job j;
        j.bytes = f.size() + 4;
        if (!j.req.ParseFromArray(f.data(), static_cast<int>(f.size()))
            || j.req.kind_case() == pb::Request::KIND_NOT_SET)
          return fail_after_pending(pb::Error::MALFORMED,
                                    "frame is not a chat Request");
        if (j.req.has_say()) // valid UTF-8 (it parsed), controls maybe
          j.req.mutable_say()->set_text(clean_text(j.req.say().text()));
        accept(std::move(j));
      }
      if (err)
        return fail_after_pending(pb::Error::TOO_LONG,
                                  "frame longer than "
                                    + std::to_string(st.opts.max_frame)
                                    + " bytes");
    }
    pump();
  }

  void on_line(const std::string& raw) {
    auto p = parse_text_line(clean_text(raw));
    job j;
    j.bytes = raw.size() + 1;
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

  void accept(job j) {
    st_->credit.hold(j.bytes);
    st_->pending.push_back(std::move(j));
  }

  void top_up() {
    if (auto n = st_->credit.top_up(); n > 0)
      self_->grant(n);
  }

  // -- requests, one at a time, answered in order -----------------------------

  void pump() {
    auto& st = *st_;
    while (!st.busy && !st.closing && !st.pending.empty()) {
      auto& next = st.pending.front();
      // The echo of what was said to a room comes from the room: before an
      // answer from anywhere else, the room answers a sync (after the
      // echoes, as one actor's messages to another keep their order).
      if (st.unsynced
          && !(next.req.has_say() && !next.reply && !next.help
               && st.room == st.unsynced)) {
        sync_room();
        break;
      }
      if (auto wait = st.bucket.wait(); wait.count() > 0) {
        // Over --rate: this request waits (and, its bytes held, so does
        // reading) until the bucket has a token.
        st.busy = true;
        st.token_timer = self_->start_timer(wait);
        break;
      }
      st.bucket.take();
      auto j = std::move(next);
      st.pending.pop_front();
      st.credit.release(j.bytes);
      if (j.reply)
        emit(*j.reply);
      else if (j.help)
        for (auto line : help_lines)
          emit_line(line);
      else
        handle(j.req);
    }
    if (st.failing && !st.busy && st.pending.empty()) {
      st.failing = false;
      fail(st.fail_code, std::move(st.fail_text));
    }
    if (!st.closing && !st.failing)
      top_up();
    maybe_end();
  }

  void sync_room() {
    auto& st = *st_;
    st.busy = true;
    auto room = std::move(st.unsynced);
    st.unsynced = nullptr;
    auto impl = keep();
    self_->request(room, caf::infinite, sync_atom::value)
      .then([impl](bool) { impl->done(); },
            [impl](caf::error&) { impl->done(); });
  }

  /// Bad input: the requests that came before it are still served (bad
  /// input affects only itself, wherever reads happened to split the
  /// bytes), nothing after it is read, then `fail`.
  void fail_after_pending(pb::Error::Code code, std::string text) {
    auto& st = *st_;
    if (st.closing || st.failing)
      return;
    st.failing = true;
    st.fail_code = code;
    st.fail_text = std::move(text);
    pump();
  }

  /// After the client's EOF, once its requests are handled: leave, shut
  /// down the write side, and close when that is done.
  void maybe_end() {
    auto& st = *st_;
    if (!st.eof || (!st.closing && (st.busy || !st.pending.empty())))
      return;
    leave_room();
    if (st.shut_done)
      self_->close();
    else
      shut();
  }

  void done() {
    st_->busy = false;
    pump();
  }

  void handle(const pb::Request& req) {
    auto& st = *st_;
    switch (req.kind_case()) {
      case pb::Request::kNick: {
        auto nick = req.nick().nick();
        if (!valid_name(nick))
          return error(pb::Error::BAD_NAME,
                       "a nick is 1-32 letters, digits, '_' or '-'");
        st.busy = true;
        auto impl = keep();
        self_->request(registry_, caf::infinite, nick_atom::value, nick, me_)
          .then(
            [impl, nick](bool ok) {
              auto& st = *impl->st_;
              if (!ok) {
                impl->error(pb::Error::NICK_TAKEN, nick + " is taken");
              } else if (nick != st.nick) {
                auto old = st.nick;
                st.nick = nick;
                if (st.room) // the room tells everyone, us too
                  return impl->ask_room(st.room, nick_atom::value, impl->me_,
                                        nick);
                pb::Event ev;
                ev.mutable_nick_changed()->set_old_nick(old);
                ev.mutable_nick_changed()->set_new_nick(nick);
                impl->emit(ev);
              }
              impl->done();
            },
            [impl](caf::error&) {
              impl->error(pb::Error::UNKNOWN, "registry unavailable");
              impl->done();
            });
        return;
      }
      case pb::Request::kJoin: {
        auto name = req.join().room();
        if (st.nick.empty())
          return error(pb::Error::NO_NICK, "set a nick first: /nick NAME");
        if (!valid_name(name))
          return error(pb::Error::BAD_NAME,
                       "a room is 1-32 letters, digits, '_' or '-'");
        if (st.room && name == st.room_name)
          return;
        st.busy = true;
        auto impl = keep();
        // Joined the new room (heard it), then left the old one (heard
        // that too): a join the server refuses leaves the client where it
        // was.
        self_->request(registry_, caf::infinite, join_atom::value, name,
                       st.nick, me_)
          .then(
            [impl, name](const caf::actor& room) {
              auto& st = *impl->st_;
              if (!room) {
                impl->error(pb::Error::TOO_MANY_ROOMS,
                            "no more rooms on this server");
                return impl->done();
              }
              if (st.closing) { // left its room already
                impl->leave(room);
                return impl->done();
              }
              auto old = std::move(st.room);
              st.room = room;
              st.room_name = name;
              if (!old)
                return impl->done();
              impl->ask_room(old, leave_atom::value, impl->me_);
            },
            [impl](caf::error&) {
              impl->error(pb::Error::UNKNOWN, "registry unavailable");
              impl->done();
            });
        return;
      }
      case pb::Request::kLeave: {
        if (!st.room)
          return error(pb::Error::NOT_IN_ROOM, "not in a room");
        auto room = std::move(st.room);
        st.room = nullptr;
        st.room_name.clear();
        ask_room(room, leave_atom::value, me_);
        return;
      }
      case pb::Request::kSay:
        if (!st.room)
          return error(pb::Error::NOT_IN_ROOM, "join a room first: /join ROOM");
        self_->send(st.room, say_atom::value, me_, req.say().text(), ++st.seq);
        st.unsynced = st.room;
        return;
      case pb::Request::kList: {
        st.busy = true;
        auto impl = keep();
        self_->request(registry_, caf::infinite, list_atom::value)
          .then(
            [impl](const std::vector<std::string>& rooms) {
              pb::Event ev;
              for (auto& r : rooms)
                ev.mutable_room_list()->add_rooms(r);
              ev.mutable_room_list(); // also when there are none
              impl->emit(ev);
              auto& st = *impl->st_;
              if (!st.room)
                return impl->done();
              auto name = st.room_name;
              impl->self_->request(st.room, caf::infinite, list_atom::value)
                .then(
                  [impl, name](const std::vector<std::string>& nicks) {
                    pb::Event ev;
                    ev.mutable_member_list()->set_room(name);
                    for (auto& n : nicks)
                      ev.mutable_member_list()->add_nicks(n);
                    impl->emit(ev);
                    impl->done();
                  },
                  [impl](caf::error&) { impl->done(); });
            },
            [impl](caf::error&) {
              impl->error(pb::Error::UNKNOWN, "registry unavailable");
              impl->done();
            });
        return;
      }
      case pb::Request::kQuit: {
        auto bye = [impl = keep()] {
          pb::Event ev;
          ev.mutable_bye();
          impl->emit(ev);
          impl->finish();
        };
        if (!st.room)
          return bye();
        // The client hears itself leave, then bye.
        auto room = std::move(st.room);
        st.room = nullptr;
        st.room_name.clear();
        st.busy = true;
        auto impl = keep();
        self_->request(room, caf::infinite, leave_atom::value, me_)
          .then(
            [impl, bye](bool) {
              bye();
              impl->done();
            },
            [impl, bye](caf::error&) {
              bye();
              impl->done();
            });
        return;
      }
      default:
        return;
    }
  }

  /// Asks `room` (join, leave, nick): the room answers after it told its
  /// members, so what the client hears of it comes before the next answer.
  template <class... Ts>
  void ask_room(const caf::actor& room, Ts&&... xs) {
    st_->busy = true;
    auto impl = keep();
    self_->request(room, caf::infinite, std::forward<Ts>(xs)...)
      .then([impl](bool) { impl->done(); },
            [impl](caf::error&) { impl->done(); });
  }

  // -- output -----------------------------------------------------------------

  /// A line for a text client only (the welcome, /help).
  void emit_line(std::string_view line) {
    if (st_->m != mode::text)
      return;
    actio::byte_buffer buf(line.begin(), line.end());
    buf.push_back('\n');
    write(std::move(buf));
  }

  void emit(const pb::Event& ev) {
    auto& st = *st_;
    if (st.shut)
      return;
    actio::byte_buffer buf;
    if (st.m == mode::proto) {
      std::string bytes;
      ev.SerializeToString(&bytes);
      auto frame = actio::io::encode_frame(
        reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
        std::numeric_limits<uint32_t>::max());
      if (!frame)
        return;
      buf = std::move(*frame);
    } else {
      auto line = render(ev);
      line.push_back('\n');
      buf.assign(line.begin(), line.end());
    }
    write(std::move(buf));
  }

  void write(actio::byte_buffer buf) {
    auto& st = *st_;
    if (st.shut)
      return;
    ++st.activity;
    st.queued += buf.size();
    if (st.queued > st.opts.max_queue) {
      // A client that does not read: disconnected, not buffered for.
      leave_room();
      st.closing = true;
      st.shut = true;
      self_->close();
      return;
    }
    self_->write(std::move(buf));
  }

  void error(pb::Error::Code code, std::string text) {
    pb::Event ev;
    ev.mutable_error()->set_code(code);
    ev.mutable_error()->set_text(std::move(text));
    emit(ev);
  }

  /// An error that ends the connection: said, then the write side shut.
  void fail(pb::Error::Code code, std::string text) {
    if (st_->closing)
      return;
    leave_room();
    error(code, std::move(text));
    finish();
  }

  /// No more requests; shut the write side after what is queued and close
  /// when the client closes, or at the latest after `linger`.
  void finish() {
    auto& st = *st_;
    if (st.closing && st.shut)
      return;
    st.closing = true;
    st.pending.clear();
    // Read on to the client's EOF (and drop it), also when its credit ran
    // out while requests waited.
    self_->grant(read_window);
    shut();
    st.linger_timer = self_->start_timer(st.opts.linger);
  }

  void shut() {
    auto& st = *st_;
    if (!st.shut) {
      st.shut = true;
      self_->shutdown_write();
    }
  }

  void leave_room() {
    auto& st = *st_;
    if (st.room) {
      leave(st.room);
      st.room = nullptr;
      st.room_name.clear();
    }
  }

  /// Leaves `room`, not waiting. A request all the same: the room answers
  /// requests only (see atoms.hpp).
  void leave(const caf::actor& room) {
    self_->request(room, caf::infinite, leave_atom::value, me_)
      .then([](bool) {}, [](caf::error&) {});
  }

  std::shared_ptr<session_impl> keep() {
    return std::make_shared<session_impl>(*this);
  }

  actio::net::connection* self_;
  caf::actor registry_;
  caf::actor me_;
  std::shared_ptr<state> st_;
};

} // namespace

caf::behavior session(actio::net::connection* self, caf::actor registry,
                      session_options opts) {
  return session_impl{self, std::move(registry), opts}.make();
}

} // namespace chat
