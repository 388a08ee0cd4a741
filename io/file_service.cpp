#include "actio/io/file_service.hpp"

#include <csignal>
#include <deque>
#include <map>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/types.hpp"

namespace actio::io {

namespace {

class file_service : public pinned<caf::event_based_actor> {
public:
  using super = pinned<caf::event_based_actor>;

  explicit file_service(caf::actor_config& cfg) : super(cfg) {
  }

  const char* name() const override {
    return "actio.file_service";
  }

protected:
  caf::behavior make_behavior() override {
    return {
      [this](file_open_atom, std::string& path, int flags,
             uint32_t mode) -> caf::result<uint64_t> {
        auto rp = make_response_promise();
        io().open_file(std::move(path), flags, mode, rp);
        return rp;
      },
      [this](file_read_atom, uint64_t file, uint64_t offset,
             uint64_t len) -> caf::result<byte_buffer> {
        auto rp = make_response_promise();
        io().read_at(file, offset, static_cast<size_t>(len), next_id(), rp);
        return rp;
      },
      [this](file_read_atom, uint64_t file, uint64_t offset, uint64_t len,
             uint64_t tag) -> caf::result<byte_buffer> {
        // Before make_response_promise(), which takes the sender out of the
        // current message: the tag is the sender's.
        auto id = tagged(tag);
        auto rp = make_response_promise();
        io().read_at(file, offset, static_cast<size_t>(len), id, rp);
        return rp;
      },
      [this](file_write_atom, uint64_t file, uint64_t offset,
             byte_buffer& buf) -> caf::result<uint64_t> {
        auto rp = make_response_promise();
        io().write_at(file, offset, std::move(buf), next_id(), rp);
        return rp;
      },
      [this](file_write_atom, uint64_t file, uint64_t offset, byte_buffer& buf,
             uint64_t tag) -> caf::result<uint64_t> {
        auto id = tagged(tag); // before make_response_promise (see read)
        auto rp = make_response_promise();
        io().write_at(file, offset, std::move(buf), id, rp);
        return rp;
      },
      [this](file_fsync_atom, uint64_t file, bool datasync) -> caf::result<void> {
        auto rp = make_response_promise();
        io().sync_file(file, datasync, rp);
        return rp;
      },
      [this](file_stat_atom, uint64_t file) -> caf::result<uint64_t> {
        auto rp = make_response_promise();
        io().stat_file(file, rp);
        return rp;
      },
      [this](file_close_atom, uint64_t file) -> caf::result<void> {
        auto rp = make_response_promise();
        io().close_file(file, rp);
        return rp;
      },
      [this](file_cancel_atom, uint64_t tag) {
        auto key = std::make_pair(sender_id(), tag);
        auto i = tags_.find(key);
        if (i == tags_.end())
          return false;
        auto id = i->second;
        tags_.erase(i);
        return io().cancel_file_op(id);
      },
    };
  }

private:
  op_id next_id() {
    return next_++;
  }

  caf::actor_id sender_id() {
    auto& src = current_sender();
    return src ? src->id() : 0;
  }

  /// Remembers (sender, tag) -> operation for `file_cancel_atom`. Completions go
  /// straight to the requester, so entries are forgotten oldest-first past
  /// `max_tags` (a stale entry only makes cancel answer `false`).
  op_id tagged(uint64_t tag) {
    auto id = next_id();
    auto key = std::make_pair(sender_id(), tag);
    tags_[key] = id;
    order_.push_back(key);
    if (order_.size() > max_tags) {
      auto old = order_.front();
      order_.pop_front();
      auto i = tags_.find(old);
      if (i != tags_.end() && i->second < id - max_tags / 2)
        tags_.erase(i);
    }
    return id;
  }

  static constexpr size_t max_tags = 4096;
  op_id next_ = 1;
  std::map<std::pair<caf::actor_id, uint64_t>, op_id> tags_;
  std::deque<std::pair<caf::actor_id, uint64_t>> order_;
};

} // namespace

caf::actor spawn_file_service(driver_unit& unit) {
  // Writing past RLIMIT_FSIZE raises SIGXFSZ, whose default action kills
  // the process. Ignored, the write fails with EFBIG: a typed error for
  // that one request (errc::file_too_large), the process stays up.
  struct sigaction current {};
  if (sigaction(SIGXFSZ, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    std::signal(SIGXFSZ, SIG_IGN);
  return spawn_pinned<file_service>(unit);
}

} // namespace actio::io
