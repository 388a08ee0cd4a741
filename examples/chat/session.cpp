#include "session.hpp"

#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "actio/io/length_delimited.hpp"
#include "actio/io/lines.hpp"
#include "atoms.hpp"
#include "text_protocol.hpp"
#include "token_bucket.hpp"

namespace chat {

namespace {

constexpr size_t read_window = 64 * 1024;
constexpr size_t max_pending = 256; // requests parsed, not yet handled

enum class mode { unknown, text, proto };

struct state {
  state(const session_options& o)
    : opts(o), lines(o.max_line), frames(o.max_frame),
      bucket(o.rate, o.burst) {
  }
  session_options opts;
  mode m = mode::unknown;
  actio::io::lines_codec lines;
  actio::io::length_delimited_codec frames;
  token_bucket bucket;
  std::deque<pb::Request> pending;
  bool busy = false; // waiting for the registry or a room
  std::string nick;
  std::string room_name;
  caf::actor room;
  uint64_t seq = 0;        // this client's messages so far
  size_t queued = 0;       // bytes written, not yet acknowledged
  bool closing = false;    // no more requests: finish and close
  bool shut = false;       // write side shutting down
  bool shut_done = false;
  bool eof = false;
  actio::op_id linger_timer = 0;
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
    self_->grant(read_window);
    auto st = st_;
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
      [impl](const actio::timer_expired& t) {
        if (t.id == impl->st_->linger_timer)
          impl->self_->close();
      },
    };
  }

private:
  // -- input ------------------------------------------------------------------

  void on_input(const actio::byte_buffer& bytes) {
    auto& st = *st_;
    self_->grant(bytes.size());
    if (st.closing || bytes.empty())
      return; // finishing: read on to the client's EOF, drop it
    if (st.m == mode::unknown)
      st.m = bytes[0] == 0 ? mode::proto : mode::text;
    if (st.m == mode::text) {
      std::vector<std::string> lines;
      auto err = st.lines.push(bytes.data(), bytes.size(), lines);
      for (auto& line : lines)
        if (!on_line(line))
          return;
      if (err)
        return fail(pb::Error::TOO_LONG,
                    "line longer than " + std::to_string(st.opts.max_line)
                      + " bytes");
    } else {
      std::vector<actio::byte_buffer> frames;
      auto err = st.frames.push(bytes.data(), bytes.size(), frames);
      for (auto& f : frames) {
        pb::Request req;
        if (!req.ParseFromArray(f.data(), static_cast<int>(f.size()))
            || req.kind_case() == pb::Request::KIND_NOT_SET)
          return fail(pb::Error::MALFORMED, "frame is not a chat Request");
        if (!accept(std::move(req)))
          return;
      }
      if (err)
        return fail(pb::Error::TOO_LONG,
                    "frame longer than " + std::to_string(st.opts.max_frame)
                      + " bytes");
    }
    pump();
  }

  bool on_line(const std::string& line) {
    bool empty = false;
    auto req = parse_line(line, &empty);
    if (empty)
      return true;
    if (!req) {
      if (!st_->bucket.take()) {
        fail(pb::Error::RATE_LIMITED, "too many requests");
        return false;
      }
      error(pb::Error::UNKNOWN_COMMAND,
            "unknown command (try /nick /join /leave /list /quit)");
      return true;
    }
    return accept(std::move(*req));
  }

  bool accept(pb::Request req) {
    auto& st = *st_;
    if (!st.bucket.take() || st.pending.size() >= max_pending) {
      fail(pb::Error::RATE_LIMITED, "too many requests");
      return false;
    }
    st.pending.push_back(std::move(req));
    return true;
  }

  // -- requests, one at a time (a join waits for its room) -------------------

  void pump() {
    auto& st = *st_;
    while (!st.busy && !st.closing && !st.pending.empty()) {
      auto req = std::move(st.pending.front());
      st.pending.pop_front();
      handle(req);
    }
    maybe_end();
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
                if (st.room) { // the room tells everyone, us too
                  impl->self_->send(st.room, nick_atom::value, impl->me_,
                                    nick);
                } else {
                  pb::Event ev;
                  ev.mutable_nick_changed()->set_old_nick(old);
                  ev.mutable_nick_changed()->set_new_nick(nick);
                  impl->emit(ev);
                }
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
        self_->request(registry_, caf::infinite, room_atom::value, name)
          .then(
            [impl, name](const caf::actor& room) {
              auto& st = *impl->st_;
              if (!room) {
                impl->error(pb::Error::TOO_MANY_ROOMS,
                            "no more rooms on this server");
              } else if (!st.closing) {
                impl->leave_room();
                st.room = room;
                st.room_name = name;
                impl->self_->send(room, join_atom::value, st.nick, impl->me_);
              }
              impl->done();
            },
            [impl](caf::error&) {
              impl->error(pb::Error::UNKNOWN, "registry unavailable");
              impl->done();
            });
        return;
      }
      case pb::Request::kLeave:
        if (!st.room)
          return error(pb::Error::NOT_IN_ROOM, "not in a room");
        leave_room();
        return;
      case pb::Request::kSay:
        if (!st.room)
          return error(pb::Error::NOT_IN_ROOM, "join a room first: /join ROOM");
        self_->send(st.room, say_atom::value, me_, req.say().text(), ++st.seq);
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
        leave_room();
        pb::Event ev;
        ev.mutable_bye();
        emit(ev);
        finish();
        return;
      }
      default:
        return;
    }
  }

  // -- output -----------------------------------------------------------------

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
      self_->send(st.room, leave_atom::value, me_);
      st.room = nullptr;
      st.room_name.clear();
    }
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
