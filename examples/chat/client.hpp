#pragma once

// Internal to actio-chat: one client's session as a framed connection
// (session.hpp says what it does). session.cpp has the connection's side
// (input, output, timers, the end), commands.cpp the requests, served one
// at a time and answered in order.
//
// Backpressure is the framed connection's (actio/io/framed.hpp): while a
// request is being served -- waiting for the registry, a room or a token of
// the rate limit -- the session pauses its input, so further frames wait in
// order and, once `max_frames` of them or the read window wait, nothing
// more is read: a paste or a client over --rate is slowed down, never
// disconnected, and the session's memory for it stays bounded.

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>

#include "actio/io/framed.hpp"
#include "atoms.hpp"
#include "client_codec.hpp"
#include "session.hpp"
#include "token_bucket.hpp"

namespace chat {

using client_self = actio::io::framed_self<client_codec>;

/// One thing a client asked for, answered in the order asked: a request,
/// or an answer made here (an unknown command's error, /help, bad input).
struct job {
  pb::Request req;
  std::optional<pb::Event> reply; ///< set: emit this
  bool help = false;              ///< the /help lines
  bool fail = false;              ///< bad input: `reply` is its error; end
};

/// Holds one place under --max-clients while the session lives.
class client_slot {
public:
  explicit client_slot(std::shared_ptr<std::atomic<size_t>> c)
    : count_(std::move(c)) {
    if (count_)
      number_ = ++*count_;
  }
  ~client_slot() {
    release();
  }
  client_slot(const client_slot&) = delete;
  client_slot& operator=(const client_slot&) = delete;
  void release() {
    if (count_)
      --*count_;
    count_ = nullptr;
  }
  /// This client's place, 1-based.
  size_t number() const noexcept {
    return number_;
  }

private:
  std::shared_ptr<std::atomic<size_t>> count_;
  size_t number_ = 0;
};

class client : public std::enable_shared_from_this<client> {
public:
  client(client_self self, caf::actor registry, const session_options& opts);

  /// The behaviour; starts the welcome and idle timers.
  caf::behavior make();

private:
  // -- session.cpp: input, output, timers, the end ----------------------------
  void on_input(client_input& in);
  void on_line(const std::string& raw);
  void on_decode_failed(const caf::error& err);
  void on_timer(actio::op_id id);
  void check_idle();
  void decide(mode m);
  void emit(const pb::Event& ev);
  void emit_line(std::string_view line);
  void error(pb::Error::Code code, std::string text);
  void fail(pb::Error::Code code, std::string text);
  void finish();
  void leave_room();
  void leave(const caf::actor& room);
  uint64_t activity() const noexcept;

  // -- commands.cpp: requests in order ----------------------------------------
  void accept(job j);
  void pump();
  void wait();
  void done();
  void sync_room();
  void serve(job& j);
  void handle(const pb::Request& req);
  void nick(const std::string& nick);
  void join(const std::string& name);
  void list();
  void quit();
  template <class... Ts>
  void ask_room(const caf::actor& room, Ts&&... xs);

  actio::net::connection* conn() const noexcept {
    return self_.connection();
  }

  client_self self_;
  caf::actor registry_;
  caf::actor me_;
  session_options opts_;
  token_bucket bucket_;
  client_slot slot_;
  std::optional<job> next_; // waiting for a room sync or a token
  bool busy_ = false;       // serving: input paused
  caf::actor unsynced_;     // a room we said something to since its answer
  std::string nick_;
  std::string room_name_;
  caf::actor room_;
  uint64_t seq_ = 0;        // this client's messages so far
  bool closing_ = false;    // no more requests: finishing or closed
  actio::op_id linger_timer_ = 0;
  actio::op_id token_timer_ = 0;
  actio::op_id welcome_timer_ = 0;
  actio::op_id idle_timer_ = 0;
  uint64_t idle_seen_ = 0;  // activity() at the last idle check
  actio::driver::clock::time_point quiet_since_;
};

} // namespace chat
