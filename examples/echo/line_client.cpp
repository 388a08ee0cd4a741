#include "line_client.hpp"

#include <cstring>
#include <deque>
#include <memory>
#include <string>

#include "actio/drivers/errc.hpp"

namespace echo_cluster {

namespace {

struct slot {
  bool ready = false;
  actio::byte_buffer out; // the reply (with its newline)
  size_t in_bytes = 0;    // input bytes this line took (credit to return)
};

struct client_state {
  std::string partial;        // bytes of an unfinished line
  size_t partial_bytes = 0;   // input bytes counted into `partial`
  std::deque<slot> slots;     // lines in order, answered or not
  std::deque<size_t> writing; // credit to return per write in flight
  bool eof = false;           // the client finished sending
  bool draining = false;      // the service stops: no new lines
  bool shut = false;          // write side shutting down
  bool closing = false;       // too long a line: close after the error
  caf::actor pool;            // where lines go
};

using state_ptr = std::shared_ptr<client_state>;

// Once every line taken is answered and written: on EOF or drain the
// graceful end (connection::finish: the client sees EOF, its input is read
// and dropped until it closes); after a too-long line, shut down and close.
void finish_if_done(actio::net::connection* self, const state_ptr& st) {
  if (!st->slots.empty() || !st->writing.empty() || st->shut)
    return;
  if (st->closing) {
    st->shut = true;
    self->shutdown_write();
  } else if (st->eof || st->draining) {
    st->shut = true;
    self->finish();
  }
}

void flush(actio::net::connection* self, const state_ptr& st) {
  while (!st->slots.empty() && st->slots.front().ready) {
    auto& s = st->slots.front();
    st->writing.push_back(s.in_bytes);
    self->write(std::move(s.out));
    st->slots.pop_front();
  }
  finish_if_done(self, st);
}

void submit(actio::net::connection* self, const state_ptr& st,
            std::string line, bool newline,
            size_t in_bytes) {
  auto& s = st->slots.emplace_back();
  s.in_bytes = in_bytes;
  auto* sp = &s; // deque::emplace_back keeps references stable
  self->request(st->pool, caf::infinite, std::move(line))
    .then(
      [=](const std::string& reply) {
        sp->out.assign(reply.begin(), reply.end());
        if (newline)
          sp->out.push_back('\n');
        sp->ready = true;
        flush(self, st);
      },
      [=](const caf::error& err) {
        auto text = "error: " + actio::describe(err) + "\n";
        sp->out.assign(text.begin(), text.end());
        sp->ready = true;
        flush(self, st);
      });
}

} // namespace

caf::behavior line_client(actio::net::connection* self, caf::actor pool) {
  auto st = std::make_shared<client_state>();
  st->pool = std::move(pool);
  self->grant(window);
  return {
    [=](actio::received& in) {
      if (st->closing || st->draining)
        return; // (draining: what came after the drain began is dropped)
      const uint8_t* p = in.bytes.data();
      const uint8_t* end = p + in.bytes.size();
      while (p != end) {
        auto* nl = static_cast<const uint8_t*>(
          std::memchr(p, '\n', static_cast<size_t>(end - p)));
        auto* stop = nl ? nl : end;
        auto n = static_cast<size_t>(stop - p);
        if (st->partial.size() + n > max_line) {
          auto& s = st->slots.emplace_back();
          std::string text = "error: line longer than "
                             + std::to_string(max_line) + " bytes\n";
          s.out.assign(text.begin(), text.end());
          s.ready = true;
          st->closing = true;
          flush(self, st);
          return;
        }
        st->partial.append(reinterpret_cast<const char*>(p), n);
        st->partial_bytes += n;
        if (!nl)
          break;
        auto bytes = st->partial_bytes + 1;
        st->partial_bytes = 0;
        submit(self, st, std::move(st->partial), true, bytes);
        st->partial.clear();
        p = nl + 1;
      }
    },
    [=](const actio::read_closed&) {
      st->eof = true;
      if (!st->partial.empty() && !st->draining) {
        auto bytes = st->partial_bytes;
        st->partial_bytes = 0;
        submit(self, st, std::move(st->partial), false, bytes);
        st->partial.clear();
      }
      finish_if_done(self, st);
    },
    [=](const actio::write_completed& out) {
      auto credit = st->writing.empty() ? 0 : st->writing.front();
      if (!st->writing.empty())
        st->writing.pop_front();
      if (out.reason) {
        self->close();
        return;
      }
      if (!st->eof && !st->closing && !st->draining)
        self->grant(credit);
      finish_if_done(self, st);
    },
    [=](const actio::shutdown_completed&) {
      if (st->closing) // (finish() handles its own shutdown)
        self->close();
    },
    [=](const actio::draining&) {
      // Like the local echo: the lines in flight are answered and written,
      // then finish(); a partial line is dropped.
      st->draining = true;
      finish_if_done(self, st);
    },
  };
}

} // namespace echo_cluster
