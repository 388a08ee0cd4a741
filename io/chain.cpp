#include "actio/io/chain.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/attach_continuous_stream_stage.hpp>
#include <caf/broadcast_downstream_manager.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/inbound_path.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/stream.hpp>
#include <caf/stream_stage_driver.hpp>
#include <caf/detail/stream_stage_impl.hpp>
#include <caf/make_counted.hpp>

#include "actio/io/batch_cap.hpp"
#include "actio/io/move_downstream_manager.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

namespace {

using out_manager = detail::move_downstream_manager<byte_chunk>;

/// Chunks the chain may hold beyond what `dest` has granted.
constexpr size_t slack = 4;

/// The chain stage. It forwards chunks, clears the `last` flag of every
/// source but the final one, and starts the next source after a last chunk.
///
/// Credit: CAF 0.17's default stage credit is twice the stage's *own*
/// throughput per credit round; a stage that only moves chunks measures
/// an enormous throughput and buffers hundreds of MiB in front of a slow
/// sink (measured: +450 MiB RSS for 512 MiB offered). This driver grants its
/// source only what `dest` has granted plus `slack` chunks, so the chain
/// holds at most that.
class chain_driver : public caf::stream_stage_driver<byte_chunk, out_manager> {
public:
  using super = caf::stream_stage_driver<byte_chunk, out_manager>;

  chain_driver(out_manager& out, caf::event_based_actor* self,
               std::shared_ptr<std::vector<source>> sources,
               std::shared_ptr<caf::stream_manager*> mgr)
    : super(out), self_(self), sources_(std::move(sources)), mgr_(std::move(mgr)) {
  }

  void process(caf::downstream<byte_chunk>& out,
               std::vector<byte_chunk>& batch) override {
    for (auto& chunk : batch)
      forward(out, chunk);
  }

  int32_t acquire_credit(caf::inbound_path* path, int32_t desired) override {
    auto limit = out_.total_credit() + slack;
    auto held = out_.buffered()
                + static_cast<size_t>(std::max(path->assigned_credit, 0));
    auto room = held >= limit ? size_t{0} : limit - held;
    return static_cast<int32_t>(std::min(room, static_cast<size_t>(desired)));
  }

  void finalize(const caf::error& err) override {
    self_->quit(err);
  }

private:
  void forward(caf::downstream<byte_chunk>& out, byte_chunk& chunk) {
    if (current_ >= sources_->size())
      return; // after the end nothing may pass
    bool final_source = current_ + 1 == sources_->size();
    if (!chunk.last || final_source) {
      if (chunk.last)
        current_ = sources_->size();
      if (!chunk.bytes.empty() || chunk.last)
        out.push(std::move(chunk));
      return;
    }
    if (!chunk.bytes.empty())
      out.push(byte_chunk{std::move(chunk.bytes), false});
    // The next source starts only now: everything before it is in `out`.
    // Until its handshake arrives the stage has no inbound path and must
    // not count as done.
    ++current_;
    (*mgr_)->continuous(true);
    (*sources_)[current_](caf::actor_cast<caf::actor>(self_));
  }

  caf::event_based_actor* self_;
  std::shared_ptr<std::vector<source>> sources_;
  std::shared_ptr<caf::stream_manager*> mgr_;
  size_t current_ = 0; // index of the running source
};

/// Chunks per batch the chain asks its sources for (see batch_cap.hpp).
constexpr int64_t max_batch = 8;

class chain_stage : public caf::detail::stream_stage_impl<chain_driver> {
public:
  using super = caf::detail::stream_stage_impl<chain_driver>;

  // (stream_manager is a virtual base: the most derived class constructs it.)
  template <class... Ts>
  chain_stage(caf::scheduled_actor* self, Ts&&... xs)
    : caf::stream_manager(self), super(self, std::forward<Ts>(xs)...) {
  }

  /// A source failed. CAF's stop() would drop the chunks still waiting for
  /// dest's credit: the chunks of earlier sources (all of `a` when `b`
  /// fails) reach dest first, then the error.
  ///
  /// It also waits for dest's `ack_open`: before it the outbound path does
  /// not know dest's slot, so CAF 0.17.6 sends the forced_close with
  /// receiver slot 0, which dest drops; and removing the path released
  /// dest's last strong reference, so dest could be destroyed and end
  /// with `exit_reason::unreachable` instead of the source's error (a source
  /// failing at once, e.g. a file source on a missing file, hit this about
  /// once in 300 runs under load).
  void handle(caf::inbound_path* in, caf::downstream_msg::forced_close& x) override {
    in->hdl = nullptr; // (as the base does: nothing more goes upstream)
    pending_ = std::move(x.reason);
    if (!stop_when_flushed())
      this->continuous(true); // alive without inbound path until then
  }

  void push() override {
    detail::cap_batch_stats(*this, max_batch);
    super::push(); // (ack_open calls this too, once dest's slot is known)
    stop_when_flushed();
  }

  /// Records a slot this actor used (the outbound path's).
  void used_slot(caf::stream_slot slot) {
    highest_slot_ = std::max(highest_slot_, slot);
  }

  /// `add_inbound_path` on a slot this actor never used before.
  ///
  /// CAF 0.17.6 numbers a new slot max(slots in use) + 1, so the next
  /// source gets the slot of the previous one once that one closed. But
  /// accepting a stream attaches a stream_aborter to the source that is
  /// never removed on a regular close: when the previous source actor
  /// exits (file_source does, after closing its file) it sends a
  /// forced_close for its old slot, which then hits the *next* source's
  /// path. With an empty exit reason that closed the chain early (dest got
  /// a normal end, the copy was short), or dropped the running source's
  /// path. A placeholder at the highest slot used makes CAF pick a fresh
  /// one, so a late forced_close finds no path and is dropped.
  caf::inbound_stream_slot<byte_chunk>
  add_source(const caf::stream<byte_chunk>& in) {
    auto& reserved = this->self()->pending_stream_managers();
    bool placeholder = false;
    if (highest_slot_ > 0
        && highest_slot_ < std::numeric_limits<caf::stream_slot>::max())
      placeholder
        = reserved.emplace(highest_slot_, caf::stream_manager_ptr{this}).second;
    auto slot = this->add_inbound_path(in);
    if (placeholder)
      reserved.erase(highest_slot_);
    used_slot(slot.value());
    return slot;
  }

private:
  /// Stops with the pending error once dest acknowledged the stream and
  /// took every buffered chunk. True if it stopped.
  bool stop_when_flushed() {
    if (!pending_ || this->pending_handshakes_ > 0 || this->out().buffered() > 0)
      return false;
    this->stop(std::exchange(pending_, caf::error{}));
    return true;
  }

  caf::error pending_; // a source's error, sent after the buffered chunks
  caf::stream_slot highest_slot_ = 0; // slots are never reused (add_source)
};

// The stage is "continuous" only while no source is attached (before the
// first handshake, and between a source's last chunk and the next one's
// handshake): a continuous manager survives having no inbound path, but it
// also ignores a source's error (stream_manager::handle(forced_close) in
// CAF 0.17.6), so it is switched off as soon as a source is attached.
caf::behavior chain_actor(caf::event_based_actor* self,
                          std::shared_ptr<std::vector<source>> sources,
                          caf::actor dest) {
  auto mgr = std::make_shared<caf::stream_manager*>(nullptr);
  // (What attach_continuous_stream_stage<Driver> does, with our subclass.)
  auto stage = caf::make_counted<chain_stage>(self, self, sources, mgr);
  stage->continuous(true);
  *mgr = stage.get();
  stage->used_slot(stage->add_unchecked_outbound_path<byte_chunk>(dest).value());
  (*sources)[0](caf::actor_cast<caf::actor>(self));
  return {
    [=](caf::stream<byte_chunk> in) {
      auto slot = stage->add_source(in);
      stage->continuous(false);
      return slot;
    },
  };
}

} // namespace

source chain(caf::actor_system& sys, source a, source b) {
  return chain(sys, std::vector<source>{std::move(a), std::move(b)});
}

source chain(caf::actor_system& sys, std::vector<source> sources) {
  if (sources.empty())
    sources.push_back(empty_source(sys));
  auto shared = std::make_shared<std::vector<source>>(std::move(sources));
  return [&sys, shared](caf::actor dest) {
    return sys.spawn(chain_actor, shared, std::move(dest));
  };
}

} // namespace actio::io
