#include "actio/io/endpoint_stream.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/attach_stream_sink.hpp>
#include <caf/attach_stream_source.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/inbound_path.hpp>
#include <caf/stream.hpp>
#include <caf/stream_sink_driver.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/move_downstream_manager.hpp"
#include "actio/io/stream.hpp"
#include "actio/net/atoms.hpp"

namespace actio::io {

namespace {

/// `recv` requests outstanding plus chunks waiting in the stream's buffer.
constexpr size_t read_ahead = 2;

caf::behavior endpoint_source(caf::event_based_actor* self, caf::actor endpoint,
                              caf::actor dest, size_t chunk) {
  struct state {
    bool failed = false;
    bool eof = false;         // an empty reply arrived (the last read)
    bool last_pushed = false;
    uint64_t next_read = 0;   // index of the next recv to issue
    uint64_t next_push = 0;   // index of the next reply to push
    size_t in_flight = 0;
    bool established = false; // the sink took the stream (it gave credit)
    caf::error pending;       // an error from before that
    std::map<uint64_t, byte_buffer> done; // replies waiting for their turn
  };
  if (chunk == 0)
    chunk = 1;
  auto st = std::make_shared<state>();
  auto refill = std::make_shared<std::function<void()>>();
  auto res = caf::attach_stream_source(
    self, dest, [](caf::unit_t&) {},
    [refill](caf::unit_t&, caf::downstream<byte_chunk>&, size_t) {
      // The stream has room: read on. Replies push the chunks.
      if (*refill)
        (*refill)();
    },
    [st](const caf::unit_t&) { return st->last_pushed; },
    [self](caf::unit_t&, const caf::error&) { self->quit(); },
    // Chunks move to the receiver (CAF's default manager copies each one).
    caf::policy::arg<detail::move_downstream_manager<byte_chunk>>{});
  auto mgr = res.ptr();
  // Stopping a stream before the sink took it is lost (CAF 0.17): an error
  // that early waits until the sink granted credit.
  auto fail = [=](caf::error err) {
    if (st->failed || st->last_pushed)
      return;
    st->failed = true;
    if (st->established || mgr->out().total_credit() > 0)
      mgr->stop(std::move(err));
    else
      st->pending = std::move(err);
  };
  // Replies to one requester arrive in order; the index check keeps the
  // bytes in order even so.
  auto flush = [=] {
    for (auto i = st->done.find(st->next_push); i != st->done.end();
         i = st->done.find(st->next_push)) {
      bool last = i->second.empty();
      mgr->out().push(byte_chunk{std::move(i->second), last});
      st->done.erase(i);
      ++st->next_push;
      if (last) {
        st->last_pushed = true;
        st->done.clear();
        break;
      }
    }
    mgr->push();
  };
  auto read = [=] {
    while (!st->failed && !st->eof
           && st->in_flight + st->done.size() + mgr->out().buffered()
                < read_ahead) {
      auto index = st->next_read++;
      ++st->in_flight;
      self->request(endpoint, caf::infinite, net::recv_atom::value, chunk)
        .then(
          [=](byte_buffer& bytes) {
            --st->in_flight;
            if (st->failed || st->last_pushed)
              return;
            if (bytes.empty())
              st->eof = true;
            st->done.emplace(index, std::move(bytes));
            flush();
            if (*refill)
              (*refill)();
          },
          [=](caf::error& err) {
            --st->in_flight;
            fail(std::move(err));
          });
    }
  };
  *refill = [=] {
    if (!st->established && mgr->out().total_credit() > 0)
      st->established = true;
    if (st->failed && st->pending && st->established)
      mgr->stop(std::exchange(st->pending, caf::error{}));
    else
      read();
  };
  (*refill)();
  self->attach_functor([refill] { *refill = nullptr; });
  // A behaviour keeps the actor alive until the finaliser quits it.
  return {
    [](caf::tick_atom) {},
  };
}

using done_fn = std::function<void(uint64_t, const caf::error&)>;

/// What the sink driver and its write replies share.
struct sink_state {
  caf::event_based_actor* self;
  caf::actor endpoint;
  done_fn done;
  endpoint_sink_options opts;
  caf::stream_manager* mgr = nullptr; // set after attaching
  size_t in_flight = 0;
  uint64_t written = 0;
  bool ended = false;     // the last chunk (or the stream's end) arrived
  bool finished = false;  // done was called
  bool shutting = false;
  bool closed = false;    // the stream's inbound path is gone

  /// Calls `done` once; the actor ends once the stream closed too.
  void finish(const caf::error& err) {
    if (finished)
      return;
    finished = true;
    done(written, err);
    if (closed)
      self->quit();
  }

  void on_stream_closed() {
    closed = true;
    mgr = nullptr;
    if (finished)
      self->quit();
  }

  /// At the end: once every write was answered, shut down (option), done.
  void maybe_finish() {
    if (!ended || finished || shutting || in_flight > 0)
      return;
    if (!opts.shutdown_at_end) {
      finish({});
      return;
    }
    shutting = true;
    self->request(endpoint, caf::infinite, net::shutdown_atom::value)
      .then([this]() { finish({}); },
            [this](caf::error& err) { finish(err); });
  }

  void write(byte_buffer bytes) {
    ++in_flight;
    self->request(endpoint, caf::infinite, net::write_atom::value,
                  std::move(bytes))
      .then(
        [this](size_t n) {
          --in_flight;
          written += n;
          maybe_finish();
        },
        [this](caf::error& err) {
          --in_flight;
          if (finished)
            return;
          if (mgr != nullptr)
            mgr->stop(err); // upstream sees it; finalize calls finish
          finish(err);
        });
  }
};

/// Grants upstream credit only for chunks the endpoint can take now: the
/// writes in flight plus the credit already out stay within the limit.
class sink_driver : public caf::stream_sink_driver<byte_chunk> {
public:
  explicit sink_driver(std::shared_ptr<sink_state> st) : st_(std::move(st)) {
  }

  void process(std::vector<byte_chunk>& batch) override {
    for (auto& c : batch) {
      if (st_->finished || st_->ended)
        return;
      if (!c.bytes.empty())
        st_->write(std::move(c.bytes));
      if (c.last) {
        st_->ended = true;
        st_->maybe_finish();
      }
    }
  }

  int32_t acquire_credit(caf::inbound_path* path, int32_t desired) override {
    auto limit = static_cast<int64_t>(std::max<size_t>(
      st_->opts.max_writes_in_flight, 1));
    auto room = limit - static_cast<int64_t>(st_->in_flight)
                - static_cast<int64_t>(path->assigned_credit);
    return static_cast<int32_t>(
      std::clamp<int64_t>(room, 0, std::max<int32_t>(desired, 0)));
  }

  void finalize(const caf::error& err) override {
    if (err) {
      st_->finish(err);
    } else {
      st_->ended = true; // a stream without a `last` chunk ends here
      st_->maybe_finish();
    }
    st_->on_stream_closed();
  }

private:
  std::shared_ptr<sink_state> st_;
};

caf::behavior endpoint_sink(caf::event_based_actor* self, caf::actor endpoint,
                            done_fn done, endpoint_sink_options opts) {
  auto st = std::make_shared<sink_state>();
  st->self = self;
  st->endpoint = std::move(endpoint);
  st->done = std::move(done);
  st->opts = opts;
  // The state's callbacks point at it: release it only with the actor.
  self->attach_functor([st] {});
  return {
    [=](caf::stream<byte_chunk> in) {
      auto res = caf::attach_stream_sink<sink_driver>(self, in, st);
      st->mgr = res.ptr().get();
      return res;
    },
  };
}

} // namespace

caf::actor spawn_endpoint_source(caf::actor_system& sys, caf::actor endpoint,
                                 caf::actor dest, size_t chunk) {
  return sys.spawn(endpoint_source, std::move(endpoint), std::move(dest), chunk);
}

caf::actor spawn_endpoint_sink(caf::actor_system& sys, caf::actor endpoint,
                               done_fn done, endpoint_sink_options opts) {
  return sys.spawn(endpoint_sink, std::move(endpoint), std::move(done), opts);
}

} // namespace actio::io
