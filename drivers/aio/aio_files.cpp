// aio engine, part 1: construction, the counters, the file table and the
// loop's call. The other parts: aio_submit.cpp, aio_calls.cpp,
// aio_shutdown.cpp (aio_internal.hpp says what each holds).

#include "actio/drivers/aio/aio_files.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>
#include <utility>

#include <unistd.h>

#include "actio/drivers/aio/aio_internal.hpp"
#include "actio/drivers/detail/dup_file.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

detail::aio_atomic_counters detail::aio_counts;

aio_notifier::~aio_notifier() = default;

std::atomic<uint64_t> aio_wakeups{0}; // counted by the Linux notifier

aio_counters aio_stats() noexcept {
  aio_counters result;
  result.batches = detail::aio_counts.batches.load();
  result.submitted = detail::aio_counts.submitted.load();
  result.largest_batch = detail::aio_counts.largest_batch.load();
  result.cancel_hits = detail::aio_counts.cancel_hits.load();
  result.wakeups = aio_wakeups.load();
  result.parked = detail::aio_counts.parked.load();
  return result;
}

// -- construction -------------------------------------------------------------

aio_files::aio_files(aio_options opts, std::unique_ptr<aio_notifier> notifier,
                     std::function<void()> wake)
  : opts_(opts),
    notifier_(std::move(notifier)),
    helpers_(wake, std::clamp<size_t>(opts.helper_threads, 1, 64)) {
  notifier_->attach(std::move(wake));
  opts_.fds_per_file = std::clamp<size_t>(opts_.fds_per_file, 1, 64);
  init_aio_runtime(opts_);
}

aio_files::~aio_files() {
  shutdown();
}

// -- file table ---------------------------------------------------------------

/// Counts `r` against `file`'s slot, or fails it with errc::closed (the
/// request then goes straight to the done list). Returns the slot's index
/// holder on success.
aio_request* aio_files::admit(request_ptr& r, file_id file, const char* what) {
  auto* s = slots_.find_open(file);
  if (s == nullptr) {
    r->err = closed_error(what, slots_.name_of(file));
    done_.push_back(std::move(r));
    return nullptr;
  }
  r->index = slots_.index_of(file);
  r->counted = true;
  ++s->in_flight;
  return r.get();
}

caf::expected<dup_file_result> aio_files::dup_file(file_id file,
                                                  const char* what) {
  auto* s = slots_.find_open(file);
  if (s == nullptr || s->fds.empty())
    return closed_error(what, slots_.name_of(file));
  return detail::dup_descriptor(s->fds.front(), what, s->path);
}

/// Closes the slot's descriptors on this thread (shutdown only).
void aio_files::close_slot(uint32_t index, caf::error* err) {
  auto& s = slots_[index];
  for (auto fd : s.fds)
    if (::close(fd) < 0 && err != nullptr && !*err && errno != EINTR)
      *err = make_path_error("close", s.path, errno);
  slots_.release(index);
}

bool aio_files::process() {
  submit_queued();
  collect();
  helpers_.drain(); // open/fstat/close results (complete)
  while (!done_.empty() || !later_.empty()) {
    while (!done_.empty()) {
      auto r = std::move(done_.front());
      done_.pop_front();
      deliver(*r);
    }
    while (!later_.empty()) {
      auto c = std::move(later_.front());
      later_.pop_front();
      complete(*c);
    }
  }
  // Short transfers re-queued by `collect` go out on the next call.
  return !queued_.empty();
}

std::optional<std::chrono::milliseconds> aio_files::max_sleep() const noexcept {
  if (in_flight_.empty())
    return std::nullopt;
  return notifier_->rescan_interval();
}

} // namespace actio
