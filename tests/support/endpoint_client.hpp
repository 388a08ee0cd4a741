#pragma once

// Talking to byte endpoints (io/endpoint.hpp) from tests: blocking calls
// from a scoped actor, and pump actors that write or read a whole stream
// in random pieces with several requests in flight. Every wait is bounded.

#include <chrono>
#include <functional>
#include <random>
#include <vector>

#include <caf/all.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/endpoint.hpp"

namespace actio::test {

/// The `errc` of an actio error, 0 for anything else.
inline uint8_t code_of(const caf::error& err) {
  // (An empty caf::error has no category in CAF 0.17: check first.)
  return err && err.category() == caf::atom("actio") ? err.code() : 0;
}

/// The value, or `fallback` on an error.
template <class T>
T value_or(caf::expected<T> x, T fallback) {
  return x ? std::move(*x) : std::move(fallback);
}

/// One request, one bounded wait for its response.
class endpoint_client {
public:
  explicit endpoint_client(caf::actor_system& sys) : self_(sys) {
  }

  template <class T, class... Ts>
  caf::expected<T> call(const caf::actor& to, Ts&&... xs) {
    caf::expected<T> result = caf::make_error(caf::sec::request_timeout);
    self_->request(to, std::chrono::seconds(60), std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  template <class... Ts>
  caf::error call_unit(const caf::actor& to, Ts&&... xs) {
    caf::error result = caf::make_error(caf::sec::request_timeout);
    self_->request(to, std::chrono::seconds(60), std::forward<Ts>(xs)...)
      .receive([&]() { result = caf::none; },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::expected<byte_buffer> recv(const caf::actor& to, size_t max) {
    return call<byte_buffer>(to, net::recv_atom::value, max);
  }

  caf::expected<size_t> write(const caf::actor& to, byte_buffer bytes) {
    return call<size_t>(to, net::write_atom::value, std::move(bytes));
  }

  caf::error flush(const caf::actor& to) {
    return call_unit(to, net::flush_atom::value);
  }

  caf::error shutdown(const caf::actor& to) {
    return call_unit(to, net::shutdown_atom::value);
  }

  caf::error close(const caf::actor& to) {
    return call_unit(to, net::close_atom::value);
  }

  /// Reads until end of stream (or an error, returned as far as read).
  byte_buffer read_to_end(const caf::actor& from, size_t max = 64 * 1024) {
    byte_buffer all;
    for (;;) {
      auto got = recv(from, max);
      if (!got || got->empty())
        return all;
      all.insert(all.end(), got->begin(), got->end());
    }
  }

  caf::scoped_actor& self() {
    return self_;
  }

private:
  caf::scoped_actor self_;
};

/// Writes `data` to an endpoint in random pieces (1..max_piece bytes, a
/// third of them 1 byte), `depth` writes in flight, checks every reply
/// counts its piece, then shuts down if asked. `done(err)` once.
class write_pump : public caf::event_based_actor {
public:
  write_pump(caf::actor_config& cfg, caf::actor ep, byte_buffer data,
             uint32_t seed, size_t max_piece, size_t depth, bool shutdown,
             std::function<void(caf::error)> done)
    : caf::event_based_actor(cfg), ep_(std::move(ep)), data_(std::move(data)),
      gen_(seed), max_piece_(max_piece), depth_(depth), shutdown_(shutdown),
      done_(std::move(done)) {
  }

protected:
  caf::behavior make_behavior() override {
    more();
    // (A behavior that is never used: an actor left with none but
    // responses to wait for was seen to stall under CAF 0.17.6.)
    return {[](int) {}};
  }

private:
  void finish(caf::error err) {
    if (done_) {
      done_(std::move(err));
      done_ = nullptr;
      quit();
    }
  }

  void more() {
    while (done_ && inflight_ < depth_ && pos_ < data_.size()) {
      auto n = gen_() % 3 == 0 ? 1 : 1 + gen_() % max_piece_;
      n = std::min(n, data_.size() - pos_);
      auto first = data_.begin() + static_cast<ptrdiff_t>(pos_);
      pos_ += n;
      ++inflight_;
      request(ep_, caf::infinite, net::write_atom::value,
              byte_buffer(first, first + static_cast<ptrdiff_t>(n)))
        .then(
          [this, n](size_t k) {
            --inflight_;
            if (k != n)
              finish(caf::make_error(caf::sec::invalid_argument,
                                     "write reply counts the wrong size"));
            more();
          },
          [this](caf::error& err) {
            --inflight_;
            finish(std::move(err));
          });
    }
    if (done_ && inflight_ == 0 && pos_ == data_.size()) {
      if (!shutdown_) {
        finish(caf::none);
        return;
      }
      ++inflight_;
      request(ep_, caf::infinite, net::shutdown_atom::value)
        .then([this]() { finish(caf::none); },
              [this](caf::error& err) { finish(std::move(err)); });
    }
  }

  caf::actor ep_;
  byte_buffer data_;
  std::mt19937 gen_;
  size_t max_piece_;
  size_t depth_;
  bool shutdown_;
  std::function<void(caf::error)> done_;
  size_t pos_ = 0;
  size_t inflight_ = 0;
};

/// Reads an endpoint to its end with random recv sizes (1..max_req, a third
/// of them 1), `depth` recvs in flight; checks each reply has 1..max bytes
/// and that every recv after the end answers empty. `done(bytes, err)`.
class read_pump : public caf::event_based_actor {
public:
  read_pump(caf::actor_config& cfg, caf::actor ep, uint32_t seed,
            size_t max_req, size_t depth,
            std::function<void(byte_buffer, caf::error)> done)
    : caf::event_based_actor(cfg), ep_(std::move(ep)), gen_(seed),
      max_req_(max_req), depth_(depth), done_(std::move(done)) {
  }

protected:
  caf::behavior make_behavior() override {
    more();
    // (A behavior that is never used: an actor left with none but
    // responses to wait for was seen to stall under CAF 0.17.6.)
    return {[](int) {}};
  }

private:
  void finish(caf::error err) {
    if (done_) {
      done_(std::move(all_), std::move(err));
      done_ = nullptr;
      quit();
    }
  }

  void more() {
    while (done_ && !eof_ && inflight_ < depth_) {
      auto max = gen_() % 3 == 0 ? size_t{1} : 1 + gen_() % max_req_;
      auto idx = slots_.size();
      slots_.emplace_back();
      ++inflight_;
      request(ep_, caf::infinite, net::recv_atom::value, max)
        .then(
          [this, idx, max](byte_buffer& bytes) {
            --inflight_;
            if (bytes.size() > max)
              finish(caf::make_error(caf::sec::invalid_argument,
                                     "recv returned more than max"));
            if (bytes.empty())
              eof_ = true;
            slots_[idx] = std::move(bytes);
            done_slot(idx);
          },
          [this](caf::error& err) {
            --inflight_;
            finish(std::move(err));
          });
    }
  }

  void done_slot(size_t) {
    more();
    if (inflight_ > 0 || !done_)
      return;
    // All answered: the non-empty replies form a prefix, then only empty.
    bool ended = false;
    for (auto& s : slots_) {
      if (s.empty()) {
        ended = true;
      } else if (ended) {
        finish(caf::make_error(caf::sec::invalid_argument,
                               "bytes after end of stream"));
        return;
      } else {
        all_.insert(all_.end(), s.begin(), s.end());
      }
    }
    finish(caf::none);
  }

  caf::actor ep_;
  std::mt19937 gen_;
  size_t max_req_;
  size_t depth_;
  std::function<void(byte_buffer, caf::error)> done_;
  std::vector<byte_buffer> slots_; // replies in request order
  size_t inflight_ = 0;
  bool eof_ = false;
  byte_buffer all_;
};

} // namespace actio::test
