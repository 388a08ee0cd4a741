#pragma once

// actio-file-bench's batched reader: an ordinary actor (CAF's scheduler)
// keeping `depth` 4 KiB reads in flight as `depth / batch` batch requests
// of `batch` reads each, `(file_read_atom, file, offsets, 4096)`; every
// answer carries `batch` buffers, each checked to be 4096 bytes, and sends
// the next batch. Read slot i draws its offsets from the same generator as
// the liburing loop's slot i.

#include <algorithm>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/file_service.hpp"
#include "read_bench_common.hpp"

namespace read_bench {

struct batch_job {
  std::string path;
  uint64_t blocks;
  size_t depth; ///< reads in flight
  size_t batch; ///< reads per request
  uint64_t seed;
  double duration;
};

/// Opens the file, keeps the batches going until the deadline, drains,
/// closes and reports through `done`.
template <class Self>
caf::behavior batch_reader(Self* self, caf::actor files, batch_job job,
                           std::promise<caf::expected<result>>* done) {
  struct state {
    uint64_t file = 0;
    std::vector<offset_gen> gens;
    clock_type::time_point start;
    clock_type::time_point deadline;
    double cpu0 = 0;
    result res;
    size_t in_flight = 0; // batches
    bool stopping = false;
    bool finished = false;
  };
  auto per = std::max<size_t>(1, std::min(job.batch, job.depth));
  auto batches = std::max<size_t>(1, job.depth / per);
  auto st = std::make_shared<state>();
  for (size_t i = 0; i < batches * per; ++i)
    st->gens.emplace_back(job.seed, i, job.blocks);
  auto finish = [=](caf::expected<result> r) {
    if (st->finished)
      return;
    st->finished = true;
    done->set_value(std::move(r));
    self->quit();
  };
  auto fail = [=](const caf::error& err) { finish(err); };
  auto drained = [=] {
    self->request(files, caf::infinite, actio::io::file_close_atom::value, st->file)
      .then([=]() { finish(st->res); }, fail);
  };
  auto issue = std::make_shared<std::function<void(size_t)>>();
  *issue = [=](size_t k) {
    ++st->in_flight;
    std::vector<uint64_t> offsets(per);
    for (size_t i = 0; i < per; ++i)
      offsets[i] = st->gens[k * per + i].next();
    self->request(files, caf::infinite, actio::io::file_read_atom::value, st->file,
                  std::move(offsets), block)
      .then(
        [=](std::vector<actio::byte_buffer>& bufs) {
          --st->in_flight;
          auto bad = std::find_if(bufs.begin(), bufs.end(),
                                  [](auto& b) { return b.size() != block; });
          if (bufs.size() != per || bad != bufs.end()) {
            st->stopping = true;
            fail(actio::make_actio_error(actio::errc::system_error,
                                         "a batch read came back short"));
            return;
          }
          if (!st->stopping) {
            auto now = clock_type::now();
            if (now < st->deadline) {
              st->res.reads += per;
              (*issue)(k);
              return;
            }
            st->stopping = true;
            st->res.seconds =
              std::chrono::duration<double>(now - st->start).count();
            st->res.cpu = process_cpu_seconds() - st->cpu0;
          }
          if (st->in_flight == 0)
            drained();
        },
        [=](caf::error& err) {
          --st->in_flight;
          st->stopping = true;
          fail(err);
        });
  };
  self->request(files, caf::infinite, actio::io::file_open_atom::value, job.path,
                int{O_RDONLY}, uint32_t{0})
    .then(
      [=](uint64_t file) {
        st->file = file;
        st->cpu0 = process_cpu_seconds();
        st->start = clock_type::now();
        st->deadline =
          st->start + std::chrono::duration_cast<clock_type::duration>(
                        std::chrono::duration<double>(job.duration));
        for (size_t k = 0; k < batches; ++k)
          (*issue)(k);
      },
      fail);
  self->attach_functor([issue] { *issue = nullptr; }); // break the cycle
  return {};
}

} // namespace read_bench
