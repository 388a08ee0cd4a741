// The connection glue of actio-kv, on the codec interface only (decode,
// finish, encode), so it can give way to a framed connection later.
//
// Reads are credited: `window` bytes at first, then the input bytes of a
// batch once its replies are written (with the kernel). A client that
// pipelines and never reads stops getting credit as soon as the socket's
// send buffer is full, so at most `window` bytes of input (plus one partial
// command, bounded by the codec's limits) and the replies to them are held.
//
// The commands decoded from what arrived (up to 128) go to the store actor as
// one batch and come back as one encoded reply buffer, written as one write.
// One batch is at the store at a time, and none is sent while more than
// 1 MiB of replies wait to be written: a pipeline of GETs of a large value
// multiplies its input, and the credit alone would not bound the replies.
//
// QUIT, a protocol error, EOF and draining end the input: what is in flight
// is answered, then QUIT's +OK or the error reply, then the write side is
// shut down; the connection closes at the client's EOF or 1 s later.

#include "session.hpp"

#include <deque>
#include <functional>
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
  struct pending_write {
    size_t input;  // input bytes it answers: granted again once written
    size_t output; // its own size
  };
  std::deque<pending_write> writes; // queued, not yet completed
  size_t out_pending = 0;    // bytes of those writes
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

constexpr size_t max_batch = 128;          // commands per batch
constexpr size_t max_output = 1024 * 1024; // reply bytes queued per connection

caf::behavior session(actio::net::connection* self, const session_options& opts) {
  auto st = std::make_shared<state>(opts);
  // send_batch's reply handler decodes the next batch: `process` is defined
  // after it, so it calls through this.
  // (Weak: the behaviour's handlers own it, no cycle through `st`.)
  auto process_ref = std::make_shared<std::function<void()>>();
  auto process_more = [weak = std::weak_ptr<std::function<void()>>{process_ref}] {
    if (auto f = weak.lock())
      (*f)();
  };
  auto grant = [=](size_t n) {
    if (n == 0)
      return;
    st->credit += n;
    self->grant(n);
  };
  auto write = [=](actio::byte_buffer buf, size_t input_bytes) {
    st->writes.push_back({input_bytes, buf.size()});
    st->out_pending += buf.size();
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
          if (!st->ending)
            process_more();
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
  // Decodes what `in` holds into one batch of at most max_batch commands,
  // while no batch is at the store and the replies not yet written stay
  // under max_output: a GET of a large value multiplies the input, and
  // without this the credit window alone would not bound the replies held.
  auto process = [=] {
    if (st->batches > 0 || st->out_pending > max_output)
      return; // called again when the batch is answered or a write done
    std::vector<command> batch;
    size_t off = 0;
    while (!st->ending && off < st->in.size() && batch.size() < max_batch) {
      auto r = st->codec.decode(st->in.data() + off, st->in.size() - off);
      if (!r.error && r.consumed == 0 && st->eof) // the rest, at EOF: a last
        r = st->codec.finish(st->in.data() + off, st->in.size() - off); // line
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
    if (st->eof && st->in.empty())
      st->ending = true; // all input decoded
    send_batch(std::move(batch));
    // A command longer than the credit, with nothing in flight to return
    // credit: read on (the codec's limits bound it).
    if (!st->ending && st->credit == 0 && st->batches == 0 && st->writes.empty())
      grant(opts.window);
    maybe_finish();
  };
  *process_ref = process;
  grant(opts.window);
  return {
    [=, keep = process_ref](actio::received& got) {
      st->credit -= std::min(st->credit, got.bytes.size());
      if (st->ending) { // read on to the client's EOF, dropping the bytes
        grant(got.bytes.size());
        return;
      }
      if (st->in.empty())
        st->in = std::move(got.bytes);
      else
        st->in.insert(st->in.end(), got.bytes.begin(), got.bytes.end());
      process();
    },
    [=](const actio::write_completed& w) {
      if (w.reason) {
        self->close();
        return;
      }
      auto done = st->writes.front();
      st->writes.pop_front();
      st->out_pending -= done.output;
      if (!st->ending) {
        grant(done.input); // written back: read as much again
        if (!st->in.empty())
          process();
      }
    },
    [=](const actio::read_closed& rc) {
      st->eof = true;
      if (st->shut_done || rc.reason) {
        self->close();
        return;
      }
      if (!st->ending)
        process(); // the rest, then the end (at once, or once answered)
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
