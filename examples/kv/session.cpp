// The connection of actio-kv: a framed connection (io/framed.hpp) with the
// RESP codec, so read credit, the write path, EOF and drain are the
// framework's, and the session deals in commands and replies only.
//
// Commands go to the store actor in batches, one batch at a time: the first
// at once, those decoded meanwhile together when its replies are back (up to
// 128; then decoding pauses until they are). A batch's replies go out as
// one write, in order. What a client can make the server hold is bounded:
// the read window (64 KiB) of input, 64 decoded commands queued, one batch
// at the store plus one being gathered, and replies up to 1 MiB waiting for
// the kernel (decoding stops beyond that: a pipeline of GETs of a large
// value multiplies its input).
//
// QUIT and a protocol error end the input: the commands before them are
// answered, then QUIT's +OK or the error reply, then finish() (EOF to the
// client, its input dropped until it closes, at most 1 s). The client's EOF
// and draining: the commands taken are answered, then finish().

#include "session.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "actio/io/framed.hpp"

namespace kv {

namespace {

using self_type = actio::io::framed_self<resp_frames>;

constexpr size_t max_batch = 128;         // commands per batch
constexpr auto linger = std::chrono::seconds{1}; // after finish()

struct state {
  state(self_type s, caf::actor db, std::atomic<int64_t>* n,
        const command_metrics* cmds)
    : self(s), store(std::move(db)), clients(n), commands(cmds) {
    if (clients)
      ++*clients;
  }
  ~state() {
    if (clients)
      --*clients;
  }
  self_type self;
  caf::actor store;
  std::atomic<int64_t>* clients;
  const command_metrics* commands;
  std::vector<command> batch; // taken, not yet at the store
  bool at_store = false;      // a batch is out
  bool ending = false;        // no more commands are taken
  bool finished = false;
  std::optional<reply> last;  // +OK of QUIT or the protocol error
};

using state_ptr = std::shared_ptr<state>;

bool is_quit(const command& c) {
  auto& n = c[0];
  return n.size() == 4 && (n[0] | 0x20) == 'q' && (n[1] | 0x20) == 'u'
         && (n[2] | 0x20) == 'i' && (n[3] | 0x20) == 't';
}

// After the last batch is answered: the final reply, then the graceful end.
void maybe_end(const state_ptr& st) {
  if (!st->ending || st->at_store || !st->batch.empty() || st->finished)
    return;
  st->finished = true;
  if (st->last)
    st->self.send(*st->last);
  st->self.finish();
  st->self.connection()->start_timer(linger);
}

void send_batch(const state_ptr& st) {
  if (st->at_store || st->batch.empty())
    return;
  st->at_store = true;
  if (st->commands)
    for (auto& c : st->batch)
      st->commands->count(c);
  st->self.connection()
    ->request(st->store, caf::infinite, std::exchange(st->batch, {}))
    .then(
      [st](std::vector<reply>& replies) {
        st->at_store = false;
        for (auto& r : replies)
          st->self.feed(r);
        st->self.flush(); // one write per batch
        st->self.resume();
        send_batch(st); // what was taken meanwhile
        maybe_end(st);
      },
      [st](caf::error& err) { st->self.close(std::move(err)); }); // store gone
}

void take(const state_ptr& st, request& req) {
  if (st->ending)
    return;
  if (!req.error.empty()) {
    st->ending = true;
    st->last = error(std::move(req.error));
  } else if (is_quit(req.args)) {
    st->ending = true;
    st->last = ok();
  } else {
    st->batch.push_back(std::move(req.args));
    if (st->at_store && st->batch.size() >= max_batch)
      st->self.pause(); // resumed when the batch at the store is answered
  }
  send_batch(st);
  maybe_end(st);
}

} // namespace

actio::net::connection_factory session(session_options opts) {
  auto& f = opts.framing;
  f.max_bytes_in_flight = 1024 * 1024;
  // The codec's limits come first; a reply may hold several values.
  f.max_frame_size = std::max(f.max_frame_size, 4 * opts.limits.max_command);
  return actio::io::framed_with<resp_frames>(
    [limits = opts.limits] { return resp_frames{limits}; },
    [store = opts.store, clients = opts.clients,
     commands = opts.commands](self_type self) {
      auto st = std::make_shared<state>(self, store, clients, commands);
      return caf::behavior{
        [st](request& req) { take(st, req); },
        [st](const actio::read_closed& rc) {
          if (rc.reason) {
            st->self.close(rc.reason);
            return;
          }
          st->ending = true;
          maybe_end(st);
        },
        [st](const actio::draining&) {
          st->ending = true;
          maybe_end(st);
        },
        [st](const actio::timer_expired&) { // the client kept its end open
          if (st->self.unacknowledged() == 0)
            st->self.close();
          else // still writing: wait for that
            st->self.connection()->start_timer(linger);
        },
      };
    },
    f);
}

} // namespace kv
