#include "actio/io/sources.hpp"

#include <fcntl.h>

#include <deque>
#include <map>
#include <utility>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/attach_stream_source.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stream.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/move_downstream_manager.hpp"

namespace actio::io {

namespace {

/// Chunks move to the receiver (CAF's default manager copies each one).
constexpr caf::policy::arg<detail::move_downstream_manager<byte_chunk>>
  moving{};

// Note: every spawn below passes at least one argument to the actor
// function; CAF 0.17's argument-less functor path trips UBSan (see
// actors/pinned.hpp).

caf::behavior memory_source(caf::event_based_actor* self,
                            std::vector<byte_buffer> chunks, caf::actor dest) {
  auto data = std::make_shared<std::vector<byte_buffer>>(std::move(chunks));
  if (data->empty())
    data->emplace_back(); // the end still travels as a (last) chunk
  caf::attach_stream_source(
    self, dest, [](size_t& i) { i = 0; },
    [data](size_t& i, caf::downstream<byte_chunk>& out, size_t hint) {
      for (; hint > 0 && i < data->size(); --hint, ++i)
        out.push(byte_chunk{std::move((*data)[i]), i + 1 == data->size()});
    },
    [data](const size_t& i) { return i == data->size(); }, caf::unit,
    moving);
  return {};
}

caf::behavior repeat_source(caf::event_based_actor* self, byte_buffer pattern,
                            uint64_t total, caf::actor dest, size_t chunk) {
  if (pattern.empty())
    pattern.push_back(0);
  if (chunk == 0)
    chunk = 1;
  // The pattern repeated over chunk + period bytes: any element is one
  // contiguous slice of it, whatever phase it starts at.
  auto period = pattern.size();
  auto block = std::make_shared<byte_buffer>();
  while (block->size() < chunk + period)
    block->insert(block->end(), pattern.begin(), pattern.end());
  struct state {
    uint64_t sent = 0;
    bool done = false;
  };
  caf::attach_stream_source(
    self, dest, [](state&) {},
    [=](state& st, caf::downstream<byte_chunk>& out, size_t hint) {
      for (; hint > 0 && !st.done; --hint) {
        auto n = static_cast<size_t>(std::min<uint64_t>(chunk, total - st.sent));
        auto start = static_cast<size_t>(st.sent % period);
        st.sent += n;
        st.done = st.sent == total;
        out.push(byte_chunk{byte_buffer(block->begin() + start,
                                        block->begin() + start + n),
                            st.done});
      }
    },
    [](const state& st) { return st.done; }, caf::unit, moving);
  return {};
}

/// Chunks read ahead of the credit (buffered in the stream plus in flight):
/// 2 MiB at the default chunk. 4 left actio-wc -l waiting on thread
/// wake-ups on a loaded machine (reads complete on the driver thread, the
/// sink counts on a scheduler thread).
constexpr size_t read_ahead = 16;

caf::behavior file_source(caf::event_based_actor* self, caf::actor files,
                          std::string path, caf::actor dest, size_t chunk) {
  struct state {
    uint64_t file = 0;
    bool opened = false;
    bool failed = false;
    bool stream = false;        // sequential reads (stdin): one at a time
    uint64_t next_read = 0;     // index of the next read to issue
    uint64_t next_push = 0;     // index of the next chunk to push
    uint64_t end = UINT64_MAX;  // index of the chunk that ended the file
    size_t in_flight = 0;
    bool last_pushed = false;
    bool established = false; // the sink took the stream (pull was called)
    caf::error pending;       // an error from before that
    std::map<uint64_t, byte_buffer> done; // completed out of order
  };
  auto st = std::make_shared<state>();
  st->stream = path == "-";
  auto refill = std::make_shared<std::function<void()>>();
  auto res = caf::attach_stream_source(
    self, dest, [](caf::unit_t&) {},
    [refill, st](caf::unit_t&, caf::downstream<byte_chunk>&, size_t) {
      // Called when the stream has room: read on. Elements are pushed by the
      // read completions below.
      if (*refill)
        (*refill)();
    },
    [st](const caf::unit_t&) { return st->last_pushed; },
    [=](caf::unit_t&, const caf::error&) {
      if (st->opened)
        self->request(files, caf::infinite, file_close_atom::value, st->file)
          .then([=]() { self->quit(); }, [=](caf::error&) { self->quit(); });
      else
        self->quit();
    },
    moving);
  auto mgr = res.ptr();
  // Stopping a stream whose handshake is still pending does not reach the
  // sink: an early error (say, open failed) waits until the sink granted
  // credit, which it does only after taking the stream.
  auto fail = [=](caf::error err) {
    if (st->failed || st->last_pushed)
      return;
    st->failed = true;
    if (st->established || mgr->out().total_credit() > 0)
      mgr->stop(std::move(err));
    else
      st->pending = std::move(err);
  };
  // Reads may complete out of order (io_uring runs them concurrently):
  // results wait in `done` and are pushed strictly by index.
  auto flush = [=] {
    for (auto i = st->done.find(st->next_push); i != st->done.end();
         i = st->done.find(st->next_push)) {
      bool last = st->next_push == st->end;
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
  *refill = [=] {
    auto limit = st->stream ? size_t{1} : read_ahead;
    while (st->opened && !st->failed && st->next_read <= st->end
           && st->end == UINT64_MAX
           && st->in_flight + st->done.size() + mgr->out().buffered() < limit) {
      auto index = st->next_read++;
      auto off = st->stream ? stream_offset : index * chunk;
      ++st->in_flight;
      self->request(files, caf::infinite, file_read_atom::value, st->file, off,
                    uint64_t{chunk})
        .then(
          [=](byte_buffer& bytes) {
            --st->in_flight;
            if (st->failed || st->last_pushed || index > st->end)
              return;
            // Regular files: short only at EOF. Streams: empty at EOF.
            bool eof = st->stream ? bytes.empty() : bytes.size() < chunk;
            if (eof)
              st->end = std::min(st->end, index);
            st->done.emplace(index, std::move(bytes));
            flush();
            (*refill)();
          },
          [=](caf::error& err) {
            --st->in_flight;
            fail(std::move(err));
          });
    }
  };
  self->request(files, caf::infinite, file_open_atom::value,
                st->stream ? std::string{"/dev/stdin"} : path, int{O_RDONLY},
                uint32_t{0})
    .then(
      [=](uint64_t file) {
        st->file = file;
        st->opened = true;
        (*refill)();
      },
      [=](caf::error& err) { fail(std::move(err)); });
  *refill = [=, inner = *refill] {
    if (!st->established && mgr->out().total_credit() > 0)
      st->established = true;
    if (st->failed && st->pending && st->established)
      mgr->stop(std::exchange(st->pending, caf::error{}));
    else
      inner();
  };
  self->attach_functor([refill] { *refill = nullptr; });
  // A behaviour keeps the actor alive until the finaliser quits it.
  return {
    [](caf::tick_atom) {},
  };
}

} // namespace

caf::actor spawn_memory_source(caf::actor_system& sys,
                               std::vector<byte_buffer> chunks,
                               caf::actor dest) {
  return sys.spawn(memory_source, std::move(chunks), std::move(dest));
}

caf::actor spawn_empty_source(caf::actor_system& sys, caf::actor dest) {
  return spawn_memory_source(sys, {}, std::move(dest));
}

caf::actor spawn_repeat_source(caf::actor_system& sys, byte_buffer pattern,
                               uint64_t total, caf::actor dest, size_t chunk) {
  return sys.spawn(repeat_source, std::move(pattern), total, std::move(dest),
                   chunk);
}

caf::actor spawn_file_source(caf::actor_system& sys, caf::actor files,
                             std::string path, caf::actor dest, size_t chunk) {
  return sys.spawn(file_source, std::move(files), std::move(path),
                   std::move(dest), chunk);
}

} // namespace actio::io
