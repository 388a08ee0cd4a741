#pragma once

/// A stream stage (In -> Out, at most one Out per In) that can end its
/// stream from inside its step function without losing anything, and whose
/// buffer in front of a slow receiver stays bounded.
///
/// Ending: `step(out, x, end)` calls `end.fail(err)` (or `end.finish()` for
/// a normal end, e.g. take). The source is stopped at once (its path is
/// closed with `err`, regularly for finish()); the elements already pushed
/// to `out` (including this step's) still reach the receiver, and only then
/// is the receiver's path aborted with `err` (or closed). Why this is not
/// simply `mgr->stop(err)` (CAF 0.17.6, stream_manager.cpp / outbound_path):
/// - stop() aborts the outbound paths at once, discarding what waits in the
///   buffer for the receiver's credit;
/// - if the receiver's ack_open has not arrived yet, the outbound path is
///   still pending: its receiver slot is 0, the forced_close sent by abort()
///   carries slot 0 and the receiver (which files downstream messages by
///   receiver slot) drops it. The receiver's ack_open then finds no path and
///   nothing ever ends its stream: its finaliser never runs (a hang). Ending
///   early in a stream, e.g. a malformed first frame, hit this.
/// So the stage waits for `pending_handshakes() == 0` and an empty buffer
/// (re-checked in push(), which CAF calls on every ack_open / ack_batch and
/// credit round) before stopping.
///
/// Backpressure: like chain.cpp, the stage grants its source only what the
/// receiver has granted plus `slack`, and caps the batch size it asks for
/// (batch_cap.hpp): a stage that merely moves or splits chunks measures an
/// enormous throughput and CAF's default would let the source run hundreds
/// of MiB ahead of a slow sink.

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/broadcast_downstream_manager.hpp>
#include <caf/detail/stream_stage_impl.hpp>
#include <caf/downstream.hpp>
#include <caf/error.hpp>
#include <caf/inbound_path.hpp>
#include <caf/make_counted.hpp>
#include <caf/make_stage_result.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/stream.hpp>
#include <caf/stream_slot.hpp>
#include <caf/stream_stage_driver.hpp>

#include "actio/io/batch_cap.hpp"
#include "actio/io/move_downstream_manager.hpp"

namespace actio::io::detail {

/// How a step ends the stream.
class stage_end {
public:
  void fail(caf::error err) {
    ended_ = true;
    err_ = std::move(err);
  }
  void finish() {
    ended_ = true;
  }
  bool ended() const noexcept {
    return ended_;
  }
  const caf::error& error() const noexcept {
    return err_;
  }

private:
  bool ended_ = false;
  caf::error err_;
};

/// Elements the stage may hold beyond what the receiver has granted.
constexpr size_t stage_slack = 4;

/// Elements per batch the stage asks its source for.
constexpr int64_t stage_max_batch = 8;

template <class In, class Out, class Step>
class bounded_stage_driver
  : public caf::stream_stage_driver<In, move_downstream_manager<Out>> {
public:
  using out_manager = move_downstream_manager<Out>;
  using super = caf::stream_stage_driver<In, out_manager>;

  bounded_stage_driver(out_manager& out, Step step, stage_end* end)
    : super(out), step_(std::move(step)), end_(end) {
  }

  void process(caf::downstream<Out>& out, std::vector<In>& batch) override {
    for (auto& x : batch) {
      if (end_->ended())
        return; // ended: drop what is still in flight
      step_(out, x, *end_);
    }
  }

  int32_t acquire_credit(caf::inbound_path* path, int32_t desired) override {
    auto limit = this->out_.total_credit() + stage_slack;
    auto held = this->out_.buffered()
                + static_cast<size_t>(std::max(path->assigned_credit, 0));
    auto room = held >= limit ? size_t{0} : limit - held;
    return static_cast<int32_t>(std::min(room, static_cast<size_t>(desired)));
  }

private:
  Step step_;
  stage_end* end_;
};

template <class In, class Out, class Step>
class bounded_stage
  : public caf::detail::stream_stage_impl<bounded_stage_driver<In, Out, Step>> {
public:
  using super = caf::detail::stream_stage_impl<bounded_stage_driver<In, Out, Step>>;

  // (stream_manager is a virtual base: the most derived class constructs it.)
  bounded_stage(caf::scheduled_actor* self, Step step)
    : caf::stream_manager(self), super(self, std::move(step), &end_) {
  }

  void handle(caf::inbound_path* in, caf::downstream_msg::batch& x) override {
    super::handle(in, x);
    if (end_.ended() && !source_stopped_) {
      source_stopped_ = true;
      // Stop the source now; stay alive without inbound path until the
      // receiver has everything (flushed in push()).
      this->continuous(true);
      this->self()->erase_inbound_paths_later(this, end_.error());
    }
  }

  void push() override {
    cap_batch_stats(*this, stage_max_batch);
    super::push();
    if (source_stopped_ && !stopped_ && this->pending_handshakes_ == 0
        && this->out().buffered() == 0) {
      stopped_ = true;
      this->stop(end_.error());
    }
  }

private:
  stage_end end_;
  bool source_stopped_ = false;
  bool stopped_ = false;
};

/// Attaches a bounded stage to `self` for `in`: `step(downstream<Out>&, In&,
/// stage_end&)` runs per element (see the file comment).
template <class Out, class In, class Step>
caf::make_stage_result_t<In, move_downstream_manager<Out>>
attach_bounded_stage(caf::scheduled_actor* self, const caf::stream<In>& in,
                     Step step) {
  auto mgr = caf::make_counted<bounded_stage<In, Out, Step>>(self, std::move(step));
  auto islot = mgr->add_inbound_path(in);
  auto oslot = mgr->add_outbound_path(std::make_tuple());
  return {islot, oslot, std::move(mgr)};
}

} // namespace actio::io::detail
