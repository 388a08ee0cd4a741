// The connection glue of actio-kv, on the codec interface only (decode,
// finish, encode), so it can give way to a framed connection later.
//
// Reads are credited: `window` bytes at first, then the input bytes of a
// batch once its replies are written (with the kernel). A client that
// pipelines and never reads stops getting credit as soon as the socket's
// send buffer is full, so at most `window` bytes of input (plus one partial
// command, bounded by the codec's limits) and the replies to them are held.
//
// Each `received` chunk is decoded into as many commands as it holds; they go
// to the store actor as one batch and come back as one encoded reply buffer,
// written as one write. The store answers batches in the order it got them
// (CAF keeps the order between two actors), so replies stay in order.
//
// QUIT, a protocol error, EOF and draining end the input: what is in flight
// is answered, then QUIT's +OK or the error reply, then the write side is
// shut down; the connection closes at the client's EOF or 1 s later.

#include "session.hpp"

#include <deque>
#include <memory>
#include <optional>

namespace kv {

namespace {

struct state {
  explicit state(const session_options& o) : opts(o), codec(o.limits) {
    if (opts.clients)
      ++*opts.clients;
  }
  ~state() {
    if (opts.clients)
      --*opts.clients;
  }
  session_options opts;
  resp_codec codec;
  actio::byte_buffer in;     // received, not yet decoded
  size_t credit = 0;         // granted, not yet received
  size_t consumed = 0;       // decoded input not yet tied to a write
  size_t batches = 0;        // at the store, not yet answered
  std::deque<size_t> writes; // input bytes each queued write stands for
  std::optional<actio::byte_buffer> last; // +OK of QUIT or an error reply
  bool ending = false;       // no more commands are decoded
  bool shut = false;         // shutdown_write requested
  bool shut_done = false;
  bool eof = false;
};

bool is_quit(const command& c) {
  auto& n = c[0];
  return n.size() == 4 && (n[0] | 0x20) == 'q' && (n[1] | 0x20) == 'u'
         && (n[2] | 0x20) == 'i' && (n[3] | 0x20) == 't';
}

} // namespace

caf::behavior session(actio::net::connection* self, const session_options& opts) {
  auto st = std::make_shared<state>(opts);
  auto grant = [=](size_t n) {
    if (n == 0)
      return;
    st->credit += n;
    self->grant(n);
  };
  auto write = [=](actio::byte_buffer buf, size_t input_bytes) {
    st->writes.push_back(input_bytes);
    self->write(std::move(buf));
  };
  // After the last batch is answered: the final reply, then FIN.
  auto maybe_finish = [=] {
    if (!st->ending || st->batches > 0 || st->shut)
      return;
    if (st->last)
      write(std::move(*st->last), 0);
    st->last.reset();
    st->shut = true;
    self->shutdown_write();
  };
  auto send_batch = [=](std::vector<command> batch) {
    size_t input = st->consumed;
    st->consumed = 0;
    if (batch.empty()) { // only empty commands: no reply, read on
      if (!st->ending)
        grant(input);
      return;
    }
    ++st->batches;
    self->request(opts.store, caf::infinite, std::move(batch))
      .then(
        [=](actio::byte_buffer& out) {
          --st->batches;
          write(std::move(out), input);
          maybe_finish();
        },
        [=](const caf::error&) { self->close(); }); // the store is gone
  };
  auto end_with = [=](std::string reply_line) {
    st->ending = true;
    actio::byte_buffer buf;
    buf.reserve(reply_line.size() + 3);
    buf.insert(buf.end(), reply_line.begin(), reply_line.end());
    buf.push_back('\r');
    buf.push_back('\n');
    st->last = std::move(buf);
  };
  // Decodes what `in` holds into one batch.
  auto process = [=](bool at_eof) {
    std::vector<command> batch;
    size_t off = 0;
    while (!st->ending && off < st->in.size()) {
      auto r = at_eof ? st->codec.finish(st->in.data() + off, st->in.size() - off)
                      : st->codec.decode(st->in.data() + off, st->in.size() - off);
      if (r.error) {
        end_with("-ERR " + resp_codec::error_text(r.error));
        break;
      }
      off += r.consumed;
      st->consumed += r.consumed;
      if (r.frame) {
        if (is_quit(*r.frame))
          end_with("+OK");
        else
          batch.push_back(std::move(*r.frame));
      }
      if (r.consumed == 0)
        break; // incomplete: wait for more
    }
    st->in.erase(st->in.begin(), st->in.begin() + static_cast<ptrdiff_t>(off));
    send_batch(std::move(batch));
    // A command longer than the credit, with nothing in flight to return
    // credit: read on (the codec's limits bound it).
    if (!st->ending && st->credit == 0 && st->batches == 0 && st->writes.empty())
      grant(opts.window);
    maybe_finish();
  };
  grant(opts.window);
  return {
    [=](actio::received& got) {
      st->credit -= std::min(st->credit, got.bytes.size());
      if (st->ending) { // read on to the client's EOF, dropping the bytes
        grant(got.bytes.size());
        return;
      }
      if (st->in.empty())
        st->in = std::move(got.bytes);
      else
        st->in.insert(st->in.end(), got.bytes.begin(), got.bytes.end());
      process(false);
    },
    [=](const actio::write_completed& w) {
      if (w.reason) {
        self->close();
        return;
      }
      size_t input = st->writes.front();
      st->writes.pop_front();
      if (!st->ending)
        grant(input); // written back: read as much again
    },
    [=](const actio::read_closed& rc) {
      st->eof = true;
      if (st->shut_done || rc.reason) {
        self->close();
        return;
      }
      if (!st->ending) {
        process(true); // a last inline command without its newline
        st->ending = true;
      }
      maybe_finish();
    },
    [=](const actio::shutdown_completed&) {
      st->shut_done = true;
      if (st->eof)
        self->close();
      else // wait for the client's EOF (closing with unread input resets
        self->start_timer(std::chrono::seconds{1}); // the connection)
    },
    [=](const actio::timer_expired&) { self->close(); },
    [=](const actio::draining&) {
      st->ending = true;
      maybe_finish();
    },
  };
}

} // namespace kv
