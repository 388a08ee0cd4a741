// aio engine, part 4: shutdown. Cancels, waits while requests keep
// finishing, parks what makes no progress (kept, process-wide, until it
// ends; a reaper thread frees it), answers the helper threads' calls and
// closes every file.

#include "actio/drivers/aio/aio_files.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include <caf/unit.hpp>

#include "actio/drivers/aio/aio_internal.hpp"
#include "actio/drivers/errc.hpp"

namespace actio {

namespace {

// -- parked requests ----------------------------------------------------------
//
// A request the AIO implementation neither cancels nor finishes (a read of
// a FIFO nobody writes to, a hung network mount) cannot be waited for at
// shutdown, and its aiocb, buffer and descriptor cannot be freed either:
// the kernel or glibc's thread may still write into them. Shutdown answers
// it (errc::cancelled) and parks it here; a reaper thread, running only
// while something is parked, waits for parked requests (aio_suspend), then
// calls aio_return, frees them and closes their descriptors.

/// A descriptor taken from a slot for parked requests; closed by the last.
struct parked_fd {
  explicit parked_fd(int x) : fd(x) {
  }
  ~parked_fd() {
    ::close(fd);
  }
  parked_fd(const parked_fd&) = delete;
  parked_fd& operator=(const parked_fd&) = delete;
  int fd;
};

struct parked_request {
  std::unique_ptr<aio_request> req;
  std::shared_ptr<parked_fd> fd;
};

struct parking {
  std::mutex mtx;
  std::vector<parked_request> entries;
  bool reaper_running = false;
};

/// Never destroyed: a parked request may still be written to while the
/// process exits (and stays reachable, so leak checkers stay quiet).
parking& parked() {
  static auto* instance = new parking;
  return *instance;
}

void reap_parked() {
  auto& p = parked();
  constexpr size_t max_wait = 64;
  for (;;) {
    std::vector<parked_request> finished;
    const aiocb* waiting[max_wait];
    size_t n = 0;
    {
      std::lock_guard<std::mutex> guard{p.mtx};
      for (size_t i = 0; i < p.entries.size();) {
        auto& cb = p.entries[i].req->cb;
        if (aio_error(&cb) == EINPROGRESS) {
          if (n < max_wait)
            waiting[n++] = &cb;
          ++i;
          continue;
        }
        aio_return(&cb);
        finished.push_back(std::move(p.entries[i]));
        p.entries[i] = std::move(p.entries.back());
        p.entries.pop_back();
      }
      aio_counts.parked = p.entries.size();
      if (p.entries.empty()) {
        p.reaper_running = false;
        return; // `finished` goes with its descriptors
      }
    }
    finished.clear();
    // Only this thread frees parked requests: `waiting` stays valid. New
    // ones parked meanwhile are seen within a second.
    timespec limit{1, 0};
    aio_suspend(waiting, static_cast<int>(n), &limit);
  }
}

void park(std::vector<parked_request> batch) {
  auto& p = parked();
  std::lock_guard<std::mutex> guard{p.mtx};
  for (auto& x : batch)
    p.entries.push_back(std::move(x));
  aio_counts.parked = p.entries.size();
  if (p.reaper_running || p.entries.empty())
    return;
  try {
    std::thread{reap_parked}.detach();
    p.reaper_running = true;
  } catch (const std::system_error&) {
    // No thread: the requests stay parked (memory and descriptors held
    // until the process ends), which is still safe.
  }
}

/// Without progress for this long, shutdown parks what is still running.
constexpr std::chrono::seconds shutdown_grace{1};

} // namespace

/// Shutdown: the requests still in flight neither finish nor cancel. Each
/// is answered now and parked (see "parked requests" above) together with
/// its descriptor, which leaves its slot so that closing the file does not
/// close it under the running call.
void aio_files::park_in_flight() {
  std::vector<parked_request> batch;
  std::vector<std::pair<int, std::shared_ptr<parked_fd>>> taken;
  std::vector<uint32_t> touched;
  for (auto& ptr : in_flight_) {
    auto& r = *ptr;
    auto& s = slots_[r.index];
    auto fd = r.cb.aio_fildes;
    std::shared_ptr<parked_fd> holder;
    for (auto& [x, h] : taken)
      if (x == fd)
        holder = h;
    if (holder == nullptr) {
      auto i = std::find(s.fds.begin(), s.fds.end(), fd);
      if (i != s.fds.end()) {
        s.fds.erase(i);
        holder = std::make_shared<parked_fd>(fd);
        taken.emplace_back(fd, holder);
      }
    }
    if (r.rp.pending())
      r.rp.deliver(cancelled_error(op_name(r), s.path,
                                   " (shutdown; still running: its buffer "
                                   "and descriptor are kept until it ends)"));
    r.rp = caf::response_promise{}; // let go of the actors on this thread
    if (notifier_->exact())
      by_serial_.erase(r.serial);
    --s.in_flight;
    touched.push_back(r.index);
    batch.push_back({std::move(ptr), std::move(holder)});
  }
  in_flight_.clear();
  park(std::move(batch));
  for (auto index : touched)
    done_with(index);
}

void aio_files::shutdown() {
  stopping_ = true;
  for (auto& r : queued_)
    r->err = cancelled_error(op_name(*r), slots_[r->index].path, " (shutdown)");
  for (auto& r : queued_)
    done_.push_back(std::move(r));
  queued_.clear();
  for (auto& r : in_flight_)
    aio_cancel(r->cb.aio_fildes, &r->cb);
  // Whatever could not be cancelled is running: wait while requests keep
  // finishing; what makes no progress for `shutdown_grace` is parked.
  auto progress = std::chrono::steady_clock::now();
  for (;;) {
    auto before = in_flight_.size();
    collect();
    if (in_flight_.empty())
      break;
    auto now = std::chrono::steady_clock::now();
    if (in_flight_.size() < before)
      progress = now;
    else if (now - progress >= shutdown_grace) {
      park_in_flight();
      break;
    }
    constexpr size_t max_wait = 64; // aio_suspend copies its list
    const aiocb* waiting[max_wait];
    auto n = std::min(in_flight_.size(), max_wait);
    for (size_t i = 0; i < n; ++i)
      waiting[i] = &in_flight_[i]->cb;
    timespec limit{0, 100'000'000};
    aio_suspend(waiting, static_cast<int>(n), &limit);
  }
  // open/fstat/close: a queued close still closes, the rest is cancelled;
  // running ones are answered now and left to their helper threads.
  auto left = helpers_.stop();
  for (auto& j : left.queued) {
    auto& c = static_cast<call&>(*j);
    if (c.kind == aio_call_kind::close)
      c.run();
    else
      c.err = cancelled_error(call_name(c),
                              c.kind == aio_call_kind::open
                                ? c.path
                                : slots_[c.index].path,
                              " (shutdown)");
    complete(c);
  }
  for (auto& j : left.abandoned)
    answer_abandoned(static_cast<call&>(*j));
  process(); // delivers; `stopping_` keeps short transfers from resubmitting
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_.in_use(i))
      continue;
    auto& s = slots_[i];
    auto rp = std::move(s.close_rp);
    caf::error err;
    close_slot(i, &err);
    reply(rp, err, caf::unit);
  }
  // Every request is finished: whatever the notifier still holds names
  // requests that are gone.
  ready_.clear();
  notifier_->drain(ready_);
  ready_.clear();
  stopping_ = false;
}

} // namespace actio
