#include "actio/io/sinks.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/attach_stream_sink.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stream.hpp>

#include "actio/io/newline_count.hpp"
#include "actio/io/stream.hpp"

namespace actio::io {

namespace {

/// A sink over elements `In` folding into `State`; `done(state, err)` once.
template <class In, class State, class Fold>
caf::actor spawn_fold_sink(caf::actor_system& sys, Fold fold,
                           std::function<void(State&, const caf::error&)> done) {
  return sys.spawn(
    [fold, done](caf::event_based_actor* self, int) -> caf::behavior {
      return {
        [=](caf::stream<In> in) {
          return caf::attach_stream_sink(
            // (CAF default-initialises the state: a scalar State would
            // start indeterminate without this.)
            self, in, [](State& st) { st = State{}; },
            [=](State& st, In x) { fold(st, x); },
            [=](State& st, const caf::error& err) {
              done(st, err);
              self->quit();
            });
        },
      };
    },
    0); // (an argument avoids CAF 0.17's null-tuple UB, see actors/pinned.hpp)
}

} // namespace

caf::actor spawn_sink(caf::actor_system& sys,
                      std::function<void(uint64_t, const caf::error&)> done) {
  return spawn_fold_sink<byte_chunk, uint64_t>(
    sys, [](uint64_t& n, byte_chunk& c) { n += c.bytes.size(); },
    [done](uint64_t& n, const caf::error& err) { done(n, err); });
}

caf::actor spawn_wc_sink(
  caf::actor_system& sys,
  std::function<void(const word_count&, const caf::error&)> done,
  bool count_words) {
  return spawn_fold_sink<byte_chunk, word_count>(
    sys,
    [count_words](word_count& wc, byte_chunk& c) {
      if (count_words) {
        wc.push(c.bytes.data(), c.bytes.size());
      } else {
        wc.lines += count_newlines(c.bytes.data(), c.bytes.size());
        wc.bytes += c.bytes.size();
      }
    },
    [done](word_count& wc, const caf::error& err) { done(wc, err); });
}

caf::actor spawn_collect_bytes(
  caf::actor_system& sys, std::function<void(byte_buffer, const caf::error&)> done) {
  return spawn_fold_sink<byte_chunk, byte_buffer>(
    sys,
    [](byte_buffer& all, byte_chunk& c) {
      all.insert(all.end(), c.bytes.begin(), c.bytes.end());
    },
    [done](byte_buffer& all, const caf::error& err) { done(std::move(all), err); });
}

caf::actor spawn_collect_lines(
  caf::actor_system& sys,
  std::function<void(std::vector<std::string>, const caf::error&)> done) {
  using lines = std::vector<std::string>;
  return spawn_fold_sink<line_batch, lines>(
    sys,
    [](lines& all, line_batch& b) {
      for (size_t i = 0; i < b.size(); ++i)
        all.emplace_back(b[i]);
    },
    [done](lines& all, const caf::error& err) { done(std::move(all), err); });
}

caf::actor spawn_collect_buffers(
  caf::actor_system& sys,
  std::function<void(std::vector<byte_buffer>, const caf::error&)> done) {
  using items = std::vector<byte_buffer>;
  return spawn_fold_sink<buffer_batch, items>(
    sys,
    [](items& all, buffer_batch& b) {
      for (auto& x : b.items)
        all.push_back(std::move(x));
    },
    [done](items& all, const caf::error& err) { done(std::move(all), err); });
}

} // namespace actio::io
