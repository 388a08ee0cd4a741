// A chat client's requests (client.hpp), served one at a time and answered
// in order: the answers to one request (errors too) come before those of
// the next, whether they come from here, the registry or a room.

#include <string>
#include <utility>
#include <vector>

#include "client.hpp"
#include "text_protocol.hpp"

namespace chat {

void client::accept(job j) {
  if (closing_)
    return;
  next_ = std::move(j);
  pump();
}

/// Input waits while a request is served (see client.hpp).
void client::wait() {
  busy_ = true;
  self_.pause();
}

void client::done() {
  busy_ = false;
  pump();
}

void client::pump() {
  while (!busy_ && !closing_ && next_) {
    auto& j = *next_;
    // The echo of what was said to a room comes from the room: before an
    // answer from anywhere else, the room answers a sync (after the
    // echoes, as one actor's messages to another keep their order).
    if (unsynced_
        && !(j.req.has_say() && !j.reply && !j.help && room_ == unsynced_))
      return sync_room();
    if (!j.fail) {
      if (auto delay = bucket_.wait(); delay.count() > 0) {
        // Over --rate: this request waits (and, input paused, so does
        // reading) until the bucket has a token.
        wait();
        token_timer_ = conn()->start_timer(delay);
        return;
      }
      bucket_.take();
    }
    auto mine = std::move(j);
    next_.reset();
    serve(mine);
  }
  if (!busy_ && !closing_ && self_.paused())
    self_.resume();
}

void client::sync_room() {
  wait();
  auto room = std::move(unsynced_);
  unsynced_ = nullptr;
  auto me = shared_from_this();
  conn()->request(room, caf::infinite, sync_atom::value)
    .then([me](bool) { me->done(); }, [me](caf::error&) { me->done(); });
}

void client::serve(job& j) {
  if (j.fail)
    return fail(j.reply->error().code(), j.reply->error().text());
  if (j.reply)
    return emit(*j.reply);
  if (j.help) {
    for (auto line : help_lines)
      emit_line(line);
    return;
  }
  handle(j.req);
}

void client::handle(const pb::Request& req) {
  switch (req.kind_case()) {
    case pb::Request::kNick:
      return nick(req.nick().nick());
    case pb::Request::kJoin:
      return join(req.join().room());
    case pb::Request::kLeave: {
      if (!room_)
        return error(pb::Error::NOT_IN_ROOM, "not in a room");
      auto room = std::move(room_);
      room_ = nullptr;
      room_name_.clear();
      return ask_room(room, leave_atom::value, me_);
    }
    case pb::Request::kSay:
      if (!room_)
        return error(pb::Error::NOT_IN_ROOM, "join a room first: /join ROOM");
      conn()->send(room_, say_atom::value, me_, req.say().text(), ++seq_);
      unsynced_ = room_;
      return;
    case pb::Request::kList:
      return list();
    case pb::Request::kQuit:
      return quit();
    default:
      return;
  }
}

void client::nick(const std::string& nick) {
  if (!valid_name(nick))
    return error(pb::Error::BAD_NAME,
                 "a nick is 1-32 letters, digits, '_' or '-'");
  wait();
  auto me = shared_from_this();
  conn()->request(registry_, caf::infinite, nick_atom::value, nick, me_)
    .then(
      [me, nick](bool ok) {
        if (!ok) {
          me->error(pb::Error::NICK_TAKEN, nick + " is taken");
        } else if (nick != me->nick_) {
          auto old = me->nick_;
          me->nick_ = nick;
          if (me->room_) // the room tells everyone, us too
            return me->ask_room(me->room_, nick_atom::value, me->me_, nick);
          pb::Event ev;
          ev.mutable_nick_changed()->set_old_nick(old);
          ev.mutable_nick_changed()->set_new_nick(nick);
          me->emit(ev);
        }
        me->done();
      },
      [me](caf::error&) {
        me->error(pb::Error::UNKNOWN, "registry unavailable");
        me->done();
      });
}

/// Joined the new room (heard it), then left the old one (heard that too):
/// a join the server refuses leaves the client where it was.
void client::join(const std::string& name) {
  if (nick_.empty())
    return error(pb::Error::NO_NICK, "set a nick first: /nick NAME");
  if (!valid_name(name))
    return error(pb::Error::BAD_NAME,
                 "a room is 1-32 letters, digits, '_' or '-'");
  if (room_ && name == room_name_)
    return;
  wait();
  auto me = shared_from_this();
  conn()->request(registry_, caf::infinite, join_atom::value, name, nick_, me_)
    .then(
      [me, name](const caf::actor& room) {
        if (!room) {
          me->error(pb::Error::TOO_MANY_ROOMS, "no more rooms on this server");
          return me->done();
        }
        if (me->closing_) { // left its room already
          me->leave(room);
          return me->done();
        }
        auto old = std::move(me->room_);
        me->room_ = room;
        me->room_name_ = name;
        if (!old)
          return me->done();
        me->ask_room(old, leave_atom::value, me->me_);
      },
      [me](caf::error&) {
        me->error(pb::Error::UNKNOWN, "registry unavailable");
        me->done();
      });
}

/// The rooms, then the members of the client's room.
void client::list() {
  wait();
  auto me = shared_from_this();
  conn()->request(registry_, caf::infinite, list_atom::value)
    .then(
      [me](const std::vector<std::string>& rooms) {
        pb::Event ev;
        for (auto& r : rooms)
          ev.mutable_room_list()->add_rooms(r);
        ev.mutable_room_list(); // also when there are none
        me->emit(ev);
        if (!me->room_)
          return me->done();
        auto name = me->room_name_;
        me->conn()->request(me->room_, caf::infinite, list_atom::value)
          .then(
            [me, name](const std::vector<std::string>& nicks) {
              pb::Event ev;
              ev.mutable_member_list()->set_room(name);
              for (auto& n : nicks)
                ev.mutable_member_list()->add_nicks(n);
              me->emit(ev);
              me->done();
            },
            [me](caf::error&) { me->done(); });
      },
      [me](caf::error&) {
        me->error(pb::Error::UNKNOWN, "registry unavailable");
        me->done();
      });
}

/// The client hears itself leave, then bye; then the end.
void client::quit() {
  auto bye = [me = shared_from_this()] {
    pb::Event ev;
    ev.mutable_bye();
    me->emit(ev);
    me->finish();
  };
  if (!room_)
    return bye();
  auto room = std::move(room_);
  room_ = nullptr;
  room_name_.clear();
  wait();
  auto me = shared_from_this();
  conn()->request(room, caf::infinite, leave_atom::value, me_)
    .then(
      [me, bye](bool) {
        bye();
        me->done();
      },
      [me, bye](caf::error&) {
        bye();
        me->done();
      });
}

/// Asks `room` (join, leave, nick): the room answers after it told its
/// members, so what the client hears of it comes before the next answer.
template <class... Ts>
void client::ask_room(const caf::actor& room, Ts&&... xs) {
  wait();
  auto me = shared_from_this();
  conn()->request(room, caf::infinite, std::forward<Ts>(xs)...)
    .then([me](bool) { me->done(); }, [me](caf::error&) { me->done(); });
}

} // namespace chat
