#include "copier.hpp"

#include <fcntl.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/file_service.hpp"

using namespace actio;

namespace {

constexpr uint64_t unknown = std::numeric_limits<uint64_t>::max();

struct copy_state {
  uint64_t in = 0;
  uint64_t out = 0;
  bool out_open = false;     // DST opened (and truncated): errors say so
  uint64_t size_hint = 0;    // positioned reads: what stat said
  uint64_t next = 0;         // positioned: next read offset; stream: next
                             // write offset
  uint64_t eof = unknown;    // SRC's length, once a read found its end
  uint64_t max_end = 0;      // end of the furthest bytes read
  uint64_t written = 0;      // bytes acknowledged by write_at
  size_t in_flight = 0;      // chunks from their read to their write's ack
  size_t ops = 0;            // reads and writes not answered yet
  caf::error error;          // the first error; reported once ops == 0
  bool probing = false;      // positioned: a read at or past size_hint out
  bool reading = false;      // stream: a read out
  bool finishing = false;
  bool ended = false;        // `done` was set
};

/// `err` with `note` appended to its text, same code.
caf::error annotate(const caf::error& err, const std::string& note) {
  if (err.category() == caf::atom("actio")
      && err.context().match_elements<std::string>())
    return make_actio_error(static_cast<errc>(err.code()),
                            err.context().get_as<std::string>(0) + note);
  return make_actio_error(errc::system_error, describe(err) + note);
}

} // namespace

caf::behavior copier(caf::event_based_actor* self, caf::actor files,
                     copy_job job, std::promise<copy_result>* done) {
  auto st = std::make_shared<copy_state>();
  const auto& dst = job.target.dst;
  auto end_with = [=](copy_result result) {
    st->ended = true;
    done->set_value(std::move(result));
    self->quit();
  };
  // Once DST was opened, a failure waits for the reads and writes still out
  // (a write below the failed one may still land), then says what is left
  // in DST. Like cp, a partial DST stays.
  auto report = [=] {
    if (!st->error || st->ops > 0 || st->ended)
      return;
    auto err = st->error;
    if (!st->out_open) {
      end_with(err);
      return;
    }
    auto written = [=](uint64_t n) {
      auto note = "; " + std::to_string(n) + " bytes written";
      if (job.target.dst_regular)
        note += ", partial file left at " + job.target.dst;
      end_with(annotate(err, note));
    };
    if (!job.target.dst_regular) {
      written(st->written);
      return;
    }
    // Its size, not the sum of acknowledged writes: a failed write may have
    // written part of its chunk.
    st->ended = true; // from here only this request's answer ends the run
    self->request(files, caf::infinite, io::file_stat_atom::value, st->out)
      .then([=](uint64_t size) { written(size); },
            [=](caf::error&) { written(st->written); });
  };
  auto fail = [=](const caf::error& err) {
    if (st->ended || st->error)
      return;
    st->error = err;
    report();
  };
  auto close_all = [=] {
    self->request(files, caf::infinite, io::file_close_atom::value, st->in)
      .then([]() {}, [](caf::error&) {}); // read side: nothing to lose
    self->request(files, caf::infinite, io::file_close_atom::value, st->out)
      .then([=]() { end_with(st->written); }, fail);
  };
  // A device or pipe has no size to check.
  auto check_size = [=] {
    if (!job.target.dst_regular) {
      close_all();
      return;
    }
    self->request(files, caf::infinite, io::file_stat_atom::value, st->out)
      .then([=](uint64_t dst_size) {
        if (dst_size != st->eof) {
          fail(make_actio_error(errc::system_error,
                                "size check: " + dst + " has "
                                  + std::to_string(dst_size)
                                  + " bytes, expected "
                                  + std::to_string(st->eof)));
          return;
        }
        close_all();
      }, fail);
  };
  // fsync(2) means nothing for /dev/null (EINVAL) or a pipe.
  auto finish = [=] {
    if (job.sync && job.target.dst_regular)
      self->request(files, caf::infinite, io::file_fsync_atom::value, st->out, false)
        .then(check_size, fail);
    else
      check_size();
  };
  auto settle_error = [=](caf::error& err) {
    --st->ops;
    fail(err);
    report();
  };
  auto pump = std::make_shared<std::function<void()>>();
  auto write_chunk = [=](uint64_t off, byte_buffer data) {
    if (data.empty()) {
      --st->in_flight;
      (*pump)();
      return;
    }
    ++st->ops;
    self->request(files, caf::infinite, io::file_write_atom::value, st->out, off,
                  std::move(data))
      .then([=](uint64_t n) {
        --st->ops;
        st->written += n;
        --st->in_flight;
        if (job.bar != nullptr)
          job.bar->update(st->written);
        (*pump)();
        report();
      }, settle_error);
  };
  // A positioned request (read or copy_range) takes the next chunk: its
  // offset, and whether it probes at or past the size hint.
  auto next_chunk = [=] {
    auto off = st->next;
    st->next += job.chunk;
    bool probe = off >= st->size_hint;
    st->probing = st->probing || probe;
    ++st->in_flight;
    ++st->ops;
    return std::make_pair(off, probe);
  };
  // `n` bytes came back for the chunk at `off`: a short one marks the end of
  // the file. False (the run failed) if bytes came past an end seen before.
  auto landed = [=](uint64_t off, uint64_t n, const char* what) {
    auto end = off + n;
    if (n < job.chunk) // short only at the end of the file
      st->eof = std::min(st->eof, end);
    if (n > 0)
      st->max_end = std::max(st->max_end, end);
    if (st->max_end > st->eof) { // bytes past an end seen earlier
      fail(make_actio_error(errc::system_error, std::string{what} + " " + job.src
                                                  + ": file changed while copying"));
      return false;
    }
    return true;
  };
  // Regular files (and block devices): reads at offsets, `depth` at once up
  // to the size hint, then one at a time until a short one marks the end.
  auto read_positioned = [=] {
    auto [off, probe] = next_chunk();
    self->request(files, caf::infinite, io::file_read_atom::value, st->in, off,
                  job.chunk)
      .then([=, off = off, probe = probe](byte_buffer& data) {
        --st->ops;
        if (probe)
          st->probing = false;
        if (st->error) {
          report();
          return;
        }
        if (!landed(off, data.size(), "read_at"))
          return;
        write_chunk(off, std::move(data));
        (*pump)();
      }, settle_error);
  };
  // Regular SRC and DST: one copy_range request per chunk (the kernel moves
  // the bytes, nothing passes through this process), the same window.
  auto copy_positioned = [=] {
    auto [off, probe] = next_chunk();
    self->request(files, caf::infinite, io::file_copy_atom::value, st->in, off,
                  st->out, off, job.chunk)
      .then([=, off = off, probe = probe](uint64_t n) {
        --st->ops;
        --st->in_flight;
        if (probe)
          st->probing = false;
        st->written += n;
        if (st->error) {
          report();
          return;
        }
        if (!landed(off, n, "copy_range"))
          return;
        if (job.bar != nullptr)
          job.bar->update(st->written);
        (*pump)();
      }, settle_error);
  };
  // Pipes and devices: one read at the current position at a time (shorter
  // whenever less is there), empty at the end; writes still overlap.
  auto read_stream = [=] {
    st->reading = true;
    ++st->in_flight;
    ++st->ops;
    self->request(files, caf::infinite, io::file_read_atom::value, st->in,
                  stream_offset, job.chunk)
      .then([=](byte_buffer& data) {
        --st->ops;
        st->reading = false;
        if (st->error) {
          report();
          return;
        }
        auto off = st->next;
        st->next += data.size();
        if (data.empty())
          st->eof = off;
        write_chunk(off, std::move(data));
        (*pump)(); // the next read, while this chunk is written
      }, settle_error);
  };
  *pump = [=] {
    if (st->ended || st->error || st->finishing)
      return;
    if (job.target.stream) {
      if (!st->reading && st->eof == unknown && st->in_flight < job.depth)
        read_stream();
    } else {
      while (st->eof == unknown && st->in_flight < job.depth
             && (st->next < st->size_hint || !st->probing)) {
        if (job.kernel_copy)
          copy_positioned();
        else
          read_positioned();
      }
    }
    if (st->eof != unknown && st->in_flight == 0) {
      st->finishing = true;
      finish();
    }
  };
  auto open_dst = [=] {
    if (job.bar != nullptr)
      job.bar->start(job.target.stream ? 0 : st->size_hint);
    self->request(files, caf::infinite, io::file_open_atom::value, dst,
                  O_WRONLY | O_CREAT | O_TRUNC, job.target.mode)
      .then([=](uint64_t out) {
        st->out = out;
        st->out_open = true;
        (*pump)();
      }, fail);
  };
  self->request(files, caf::infinite, io::file_open_atom::value, job.src, O_RDONLY,
                uint32_t{0})
    .then([=](uint64_t in) {
      st->in = in;
      if (job.target.stream) {
        open_dst();
        return;
      }
      self->request(files, caf::infinite, io::file_stat_atom::value, in)
        .then([=](uint64_t size) {
          st->size_hint = size;
          open_dst();
        }, fail);
    }, fail);
  self->attach_functor([pump] { *pump = nullptr; }); // break the cycle
  return {};
}
