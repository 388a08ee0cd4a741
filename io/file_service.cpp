#include "actio/io/file_service.hpp"

#include <unistd.h>

#include <csignal>
#include <memory>
#include <deque>
#include <map>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "actio/actors/pinned.hpp"
#include "actio/drivers/driver_counters.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/file_copy.hpp"

namespace actio::io {

namespace {

/// A copy finished on a helper thread (file_copy.hpp): drain the copier.
using copy_done_atom = caf::atom_constant<caf::atom("f_copied")>;

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
        return submit<uint64_t>(file_op_kind::open, [&](caf::response_promise rp) {
          io().files().open_file(std::move(path), flags, mode, std::move(rp));
        });
      },
      [this](file_read_atom, uint64_t file, uint64_t offset,
             uint64_t len) -> caf::result<byte_buffer> {
        return submit<byte_buffer>(file_op_kind::read_at, [&](caf::response_promise rp) {
          io().files().read_at(file, offset, static_cast<size_t>(len), next_id(),
                               std::move(rp));
        });
      },
      [this](file_read_atom, uint64_t file, uint64_t offset, uint64_t len,
             uint64_t tag) -> caf::result<byte_buffer> {
        // Before make_response_promise(), which takes the sender out of the
        // current message: the tag is the sender's.
        auto id = tagged(tag);
        return submit<byte_buffer>(file_op_kind::read_at, [&](caf::response_promise rp) {
          io().files().read_at(file, offset, static_cast<size_t>(len), id,
                               std::move(rp));
        });
      },
      [this](file_read_atom, uint64_t file, std::vector<uint64_t>& offsets,
             uint64_t len) -> caf::result<std::vector<byte_buffer>> {
        return submit<std::vector<byte_buffer>>(
          file_op_kind::read_batch, [&](caf::response_promise rp) {
            if (offsets.size() > max_read_batch || len > max_read_batch_bytes
                || offsets.size() * len > max_read_batch_bytes) {
              rp.deliver(make_actio_error(
                errc::invalid_argument,
                "read_batch: " + std::to_string(offsets.size()) + " reads of "
                  + std::to_string(len) + " bytes; at most "
                  + std::to_string(max_read_batch) + " reads and "
                  + std::to_string(max_read_batch_bytes) + " bytes per batch"));
              return;
            }
            io().files().read_batch(file, std::move(offsets),
                                    static_cast<size_t>(len), std::move(rp));
          });
      },
      [this](file_write_atom, uint64_t file, uint64_t offset,
             byte_buffer& buf) -> caf::result<uint64_t> {
        return submit<uint64_t>(file_op_kind::write_at, [&](caf::response_promise rp) {
          io().files().write_at(file, offset, std::move(buf), next_id(),
                                std::move(rp));
        });
      },
      [this](file_write_atom, uint64_t file, uint64_t offset, byte_buffer& buf,
             uint64_t tag) -> caf::result<uint64_t> {
        auto id = tagged(tag); // before make_response_promise (see read)
        return submit<uint64_t>(file_op_kind::write_at, [&](caf::response_promise rp) {
          io().files().write_at(file, offset, std::move(buf), id, std::move(rp));
        });
      },
      [this](file_fsync_atom, uint64_t file, bool datasync) -> caf::result<void> {
        return submit<void>(file_op_kind::fsync, [&](caf::response_promise rp) {
          io().files().sync_file(file, datasync, std::move(rp));
        });
      },
      [this](file_stat_atom, uint64_t file) -> caf::result<uint64_t> {
        return submit<uint64_t>(file_op_kind::stat, [&](caf::response_promise rp) {
          io().files().stat_file(file, std::move(rp));
        });
      },
      [this](file_close_atom, uint64_t file) -> caf::result<void> {
        return submit<void>(file_op_kind::close, [&](caf::response_promise rp) {
          io().files().close_file(file, std::move(rp));
        });
      },
      [this](file_copy_atom, uint64_t in, uint64_t in_offset, uint64_t out,
             uint64_t out_offset, uint64_t len) -> caf::result<uint64_t> {
        return submit<uint64_t>(file_op_kind::copy_range, [&](caf::response_promise rp) {
          start_copy(in, in_offset, out, out_offset, len, std::move(rp));
        });
      },
      [this](copy_done_atom) {
        if (copier_)
          copier_->drain();
      },
      [this](file_cancel_atom, uint64_t tag) {
        auto key = std::make_pair(sender_id(), tag);
        auto i = tags_.find(key);
        if (i == tags_.end())
          return false;
        auto id = i->second;
        tags_.erase(i);
        return io().files().cancel_file_op(id);
      },
    };
  }

  void on_exit() override {
    // Copies queued or running: answered (cancelled); no wake-up after this.
    if (copier_)
      copier_->stop();
    // Outcomes still followed: their answers would come to a dead actor.
    for (auto& [key, rp] : awaiting_)
      rp.deliver(make_actio_error(errc::cancelled, "file service stopped"));
    awaiting_.clear();
    super::on_exit();
  }

private:
  /// Counts a file operation of `kind` and has `start` hand it to the
  /// driver with the promise to answer: the requester's own, or, while the
  /// driver's counters follow outcomes (a metrics endpoint runs), one that
  /// answers this actor first, which counts the outcome and passes it on.
  template <class T, class Start>
  caf::result<T> submit(file_op_kind kind, Start&& start) {
    auto& c = io().counters();
    c.file_requests.add(kind);
    auto rp = make_response_promise();
    if (!c.file_outcomes_counted()) {
      start(rp);
      return rp;
    }
    auto mid = new_request_id(caf::message_priority::normal);
    auto key = mid.integer_value();
    awaiting_.emplace(key, rp);
    add_multiplexed_response_handler(mid.response_id(), outcome<T>(kind, key));
    start(caf::response_promise{ctrl(), ctrl(), {}, mid});
    return rp;
  }

  /// The handler of the answer to `submit`'s own promise `key`.
  template <class T>
  caf::behavior outcome(file_op_kind kind, uint64_t key) {
    auto failed = [this, kind, key](caf::error& err) {
      if (auto rp = answered(kind, key, true))
        rp->deliver(std::move(err));
    };
    if constexpr (std::is_void_v<T>)
      return {[this, kind, key] {
                if (auto rp = answered(kind, key, false))
                  rp->deliver(caf::unit);
              },
              failed};
    else
      return {[this, kind, key](T& value) {
                if (auto rp = answered(kind, key, false))
                  rp->deliver(std::move(value));
              },
              failed};
  }

  /// Counts the outcome; the requester's promise, if still waiting.
  std::optional<caf::response_promise> answered(file_op_kind kind, uint64_t key,
                                                bool error) {
    auto& c = io().counters();
    c.file_completions.add(kind);
    if (error)
      c.file_errors.add(kind);
    auto i = awaiting_.find(key);
    if (i == awaiting_.end())
      return std::nullopt;
    auto rp = std::move(i->second);
    awaiting_.erase(i);
    return rp;
  }

  /// Hands a copy to the helper threads (io/file_copy.hpp) on descriptors
  /// of its own, so closing either file meanwhile is safe.
  void start_copy(uint64_t in, uint64_t in_offset, uint64_t out,
                  uint64_t out_offset, uint64_t len, caf::response_promise rp) {
    auto src = io().files().dup_file(in, "copy_range");
    if (!src) {
      rp.deliver(std::move(src.error()));
      return;
    }
    auto dst = io().files().dup_file(out, "copy_range");
    if (!dst) {
      ::close(src->fd);
      rp.deliver(std::move(dst.error()));
      return;
    }
    if (!copier_) {
      // The wake-up is a message to this actor, sent from a helper thread
      // under the pool's lock: a plain enqueue, no reference taken (a
      // handle dropped there could destroy this actor on that thread).
      // `on_exit` stops the copier first, after which no wake-up comes.
      caf::abstract_actor* me = this;
      copier_ = std::make_unique<file_copier>([me] {
        me->enqueue(nullptr, caf::make_message_id(),
                    caf::make_message(copy_done_atom::value), nullptr);
      });
    }
    copier_->start(copy_range_args{src->fd, dst->fd, std::move(src->path),
                                   std::move(dst->path), in_offset, out_offset,
                                   len},
                   std::move(rp));
  }

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
  std::unordered_map<uint64_t, caf::response_promise> awaiting_; // see submit
  std::unique_ptr<file_copier> copier_; // the first copy starts it
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
