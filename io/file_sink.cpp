#include "actio/io/file_sink.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/attach_stream_sink.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stream.hpp>
#include <caf/detail/stream_sink_impl.hpp>
#include <caf/make_counted.hpp>
#include <caf/make_sink_result.hpp>
#include <caf/stream_sink_driver.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/batch_cap.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

namespace {

struct sink_state {
  caf::event_based_actor* self = nullptr;
  caf::actor files;
  file_sink_options opts;
  done_fn done;
  uint64_t file = 0;
  bool opening = true;
  bool opened = false;
  bool attached = false;   // the stream arrived
  bool finalized = false;  // the stream ended (or was stopped)
  bool finishing = false;  // closing the file, `done` follows
  caf::error err;          // the first error
  bool stopped = false;    // open or write failed: write no more
  caf::stream_manager* mgr = nullptr; // while the stream runs
  std::deque<byte_buffer> queue;      // taken, not yet written
  size_t in_flight = 0;
  uint64_t offset = 0;  // of the next write
  uint64_t written = 0; // completed

  size_t held() const {
    return queue.size() + in_flight;
  }

  /// Records the first error and stops the stream with it.
  void fail(caf::error e) {
    if (!err)
      err = std::move(e);
    stopped = true;
    queue.clear();
    if (mgr) {
      auto m = mgr;
      mgr = nullptr;
      m->stop(err);
    }
  }

  void pump(const std::shared_ptr<sink_state>& self_ptr);
  void maybe_finish(const std::shared_ptr<sink_state>& self_ptr);
};

void sink_state::pump(const std::shared_ptr<sink_state>& st) {
  while (opened && !stopped && !queue.empty() && in_flight < opts.max_in_flight) {
    auto buf = std::move(queue.front());
    queue.pop_front();
    auto size = buf.size();
    auto off = offset;
    offset += size;
    ++in_flight;
    self->request(files, caf::infinite, file_write_atom::value, file, off, std::move(buf))
      .then(
        [st, size, off](uint64_t n) {
          --st->in_flight;
          st->written += std::min<uint64_t>(n, size);
          if (n < size && !st->stopped) {
            // A short write (the driver completes regular files; be safe):
            // the rest must still land at its offset before anything else
            // could be considered done. Not expected; treat as no space.
            st->fail(make_actio_error(errc::no_space,
                                      "write: short write at offset "
                                        + std::to_string(off + n)));
          }
          st->pump(st);
          st->maybe_finish(st);
        },
        [st](caf::error& e) {
          --st->in_flight;
          st->fail(std::move(e));
          st->maybe_finish(st);
        });
  }
}

void sink_state::maybe_finish(const std::shared_ptr<sink_state>& st) {
  // (After an upstream error the chunks already taken are still written:
  // the file holds everything the sink took before the error.)
  if (finishing || !finalized || opening || in_flight > 0
      || (!stopped && !queue.empty()))
    return;
  finishing = true;
  auto report = [st] {
    auto done = std::move(st->done);
    st->done = nullptr;
    if (done)
      done(st->written, st->err);
    st->self->quit();
  };
  if (!opened) {
    report();
    return;
  }
  auto close = [st, report] {
    st->self->request(st->files, caf::infinite, file_close_atom::value, st->file)
      .then([report]() { report(); },
            [st, report](caf::error& e) {
              if (!st->err)
                st->err = std::move(e);
              report();
            });
  };
  if (opts.fsync && !err) {
    self->request(files, caf::infinite, file_fsync_atom::value, file, false)
      .then([close]() { close(); },
            [st, close](caf::error& e) {
              st->err = std::move(e);
              close();
            });
    return;
  }
  close();
}

class file_sink_driver : public caf::stream_sink_driver<byte_chunk> {
public:
  explicit file_sink_driver(std::shared_ptr<sink_state> st) : st_(std::move(st)) {
  }

  void process(std::vector<byte_chunk>& batch) override {
    if (st_->stopped)
      return; // stopping: drop what is still arriving
    for (auto& chunk : batch)
      if (!chunk.bytes.empty())
        st_->queue.push_back(std::move(chunk.bytes));
    st_->pump(st_);
  }

  /// The backpressure: credit only for chunks the sink has room for
  /// (credit already granted but not yet used counts as held).
  int32_t acquire_credit(caf::inbound_path* path, int32_t desired) override {
    auto held = st_->held() + static_cast<size_t>(std::max(path->assigned_credit, 0));
    auto room = held >= st_->opts.max_buffered ? 0 : st_->opts.max_buffered - held;
    return std::min(desired, static_cast<int32_t>(room));
  }

  void finalize(const caf::error& err) override {
    st_->mgr = nullptr;
    st_->finalized = true;
    if (err && !st_->err)
      st_->err = err;
    st_->maybe_finish(st_);
  }

private:
  std::shared_ptr<sink_state> st_;
};

/// The sink's manager, with the batch size capped (see batch_cap.hpp).
class file_sink_manager : public caf::detail::stream_sink_impl<file_sink_driver> {
public:
  using super = caf::detail::stream_sink_impl<file_sink_driver>;

  // (stream_manager is a virtual base: the most derived class constructs it.)
  template <class... Ts>
  file_sink_manager(caf::scheduled_actor* self, Ts&&... xs)
    : caf::stream_manager(self), super(self, std::forward<Ts>(xs)...) {
  }

  void push() override {
    detail::cap_batch_stats(*this, 8);
    super::push();
  }
};

caf::behavior file_sink_actor(caf::event_based_actor* self, caf::actor files,
                              std::string path, done_fn done,
                              file_sink_options opts) {
  auto st = std::make_shared<sink_state>();
  st->self = self;
  st->files = std::move(files);
  st->opts = opts;
  st->opts.max_in_flight = std::max<size_t>(st->opts.max_in_flight, 1);
  st->opts.max_buffered = std::max(st->opts.max_buffered, st->opts.max_in_flight);
  st->done = std::move(done);
  self->request(st->files, caf::infinite, file_open_atom::value, std::move(path),
                opts.flags, opts.mode)
    .then(
      [st](uint64_t file) {
        st->opening = false;
        st->file = file;
        st->opened = true;
        st->pump(st);
        st->maybe_finish(st);
      },
      [st](caf::error& err) {
        st->opening = false;
        st->fail(std::move(err));
        st->maybe_finish(st);
      });
  return {
    [=](caf::stream<byte_chunk> in) {
      // (What attach_stream_sink<Driver> does, with our manager class.)
      auto mgr = caf::make_counted<file_sink_manager>(self, st);
      auto slot = mgr->add_inbound_path(in);
      st->attached = true;
      st->mgr = mgr.get();
      if (st->stopped) {
        // Opening failed before the stream arrived: stop it once the
        // handshake is through (stopping now would be lost).
        self->send(self, caf::tick_atom::value);
      }
      return caf::make_sink_result<byte_chunk>{slot, std::move(mgr)};
    },
    [=](caf::tick_atom) {
      if (st->mgr)
        st->fail(st->err);
    },
  };
}

} // namespace

caf::actor spawn_file_sink(caf::actor_system& sys, caf::actor files,
                           std::string path, done_fn done,
                           file_sink_options options) {
  return sys.spawn(file_sink_actor, std::move(files), std::move(path),
                   std::move(done), options);
}

sink file_sink(caf::actor_system& sys, caf::actor files, std::string path,
               file_sink_options options) {
  return [&sys, files = std::move(files), path = std::move(path),
          options](done_fn done) {
    return spawn_file_sink(sys, files, path, std::move(done), options);
  };
}

} // namespace actio::io
