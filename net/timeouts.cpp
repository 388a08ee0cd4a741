#include "actio/net/timeouts.hpp"

#include <algorithm>

namespace actio::net {

timeout_watch::timeout_watch(connection_timeouts t, clock::time_point now)
  : t_(t), active_(now), read_wait_(now), write_wait_(now) {
}

timeout_watch::clock::duration timeout_watch::period() const noexcept {
  using std::chrono::milliseconds;
  auto shortest = milliseconds::max();
  for (auto x : {t_.idle, t_.read, t_.write})
    if (x.count() > 0)
      shortest = std::min(shortest, x);
  return std::max<clock::duration>(shortest / 4, milliseconds{1});
}

std::optional<errc> timeout_watch::check(const socket_progress& p,
                                         clock::time_point now) {
  // Marks move to `now` when progress was seen since the last sample, or
  // nothing waits now, or the wait was not seen before. `now` is never
  // earlier than the real event, so a timeout never fires before T passed.
  bool read_moved = p.bytes_read != last_.bytes_read;
  bool write_moved = p.bytes_written != last_.bytes_written;
  bool read_waits = p.credit > 0 && p.reading;
  bool write_waits = p.queued > 0;
  if (read_moved || write_moved)
    active_ = now;
  if (read_moved || !read_waits || !read_waited_)
    read_wait_ = now;
  if (write_moved || !write_waits || !write_waited_)
    write_wait_ = now;
  last_ = p;
  read_waited_ = read_waits;
  write_waited_ = write_waits;
  if (t_.write.count() > 0 && now - write_wait_ >= t_.write)
    return errc::write_timeout;
  if (t_.read.count() > 0 && now - read_wait_ >= t_.read)
    return errc::read_timeout;
  if (t_.idle.count() > 0 && now - active_ >= t_.idle)
    return errc::idle_timeout;
  return std::nullopt;
}

} // namespace actio::net
