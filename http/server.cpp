#include "actio/http/server.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <strings.h>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/http/date.hpp"
#include "actio/http/detail/websocket_session.hpp"
#include "actio/http/websocket_handshake.hpp"
#include "actio/io/framed.hpp"

namespace actio::http {

namespace {

using self_t = detail::server_self;

/// One request's place in the answer order.
struct slot {
  bool ready = false;
  bool head = false;       // HEAD: no body
  bool keep_alive = true;  // the client's wish
  bool interim = false;    // 100 Continue
  bool websocket = false;  // a checked WebSocket handshake
  uint16_t version = 11;
  driver::clock::time_point deadline{}; // the handler's answer is due
  response res;
};

class session : public std::enable_shared_from_this<session> {
public:
  session(self_t self, server_options opts)
    : self_(self), opts_(std::move(opts)) {
  }

  void start() {
    arm_timer();
  }

  void on_request(request& req) {
    cancel_timer();
    if (closing_ || ended_)
      return; // after a close or an error: dropped
    if (req.error != 0) {
      push_error(req.error, req.error_text);
      return;
    }
    bool websocket = wants_websocket(req);
    if (websocket) {
      auto refusal = check_websocket_upgrade(req, opts_.websocket.origins);
      if (refusal.status != 0) {
        push_error(std::move(refusal));
        return;
      }
      ws_request_ = req; // (for the 101 and ws_opened)
    }
    if (req.interim) {
      slot s;
      s.ready = s.interim = true;
      queue_.push_back(std::move(s));
      ++next_;
      flush();
      return;
    }
    if (queue_.size() >= opts_.max_pipelined) {
      push_error(503, "too many pipelined requests");
      return;
    }
    slot s;
    s.head = req.method == "HEAD";
    s.keep_alive = req.keep_alive;
    s.version = req.version;
    s.websocket = websocket;
    if (!req.keep_alive)
      closing_ = true; // what follows it is not read
    s.deadline = driver::clock::now() + opts_.handler_timeout;
    queue_.push_back(std::move(s));
    auto seq = next_++;
    auto me = shared_from_this();
    // No CAF request timeout: CAF's actor clock takes a lock and wakes its
    // timer thread for every request (7% of a /hello's CPU). One driver
    // timer per connection watches the oldest unanswered request instead.
    self_.connection()
      ->request(opts_.handler, caf::infinite, std::move(req))
      .then([me, seq](response& r) { me->answer(seq, std::move(r)); },
            [me, seq](caf::error&) {
              me->answer(seq, response::text(500, "handler failed\n"));
            });
    if (handler_timer_ == 0)
      handler_timer_ = self_.connection()->start_timer(opts_.handler_timeout);
  }

  /// 504 for every request whose handler is past its deadline; the timer
  /// again for the next deadline. A late answer finds its slot answered.
  void check_handlers() {
    auto now = driver::clock::now();
    std::optional<driver::clock::time_point> next;
    for (auto& s : queue_) {
      if (s.ready)
        continue;
      if (s.deadline <= now) {
        s.res = response::text(504, "handler timed out\n");
        s.ready = true;
      } else if (!next || s.deadline < *next) {
        next = s.deadline;
      }
    }
    flush();
    if (next && !ended_)
      handler_timer_ = self_.connection()->start_timer(*next - now);
  }

  void on_timer(op_id id) {
    if (ws_ && ws_->on_timer(id))
      return;
    if (id == handler_timer_) {
      handler_timer_ = 0;
      if (!ended_)
        check_handlers();
      return;
    }
    if (id == linger_) {
      self_.close();
      return;
    }
    if (id != timer_)
      return;
    timer_ = 0;
    if (ended_ || !queue_.empty() || source_)
      return;
    if (self_.codec().in_progress())
      push_error(408, "request not received in time");
    else
      end(); // an idle keep-alive connection
  }

  /// The peer's EOF, or a drain: answer what arrived, then close.
  void wind_down() {
    closing_ = true;
    if (queue_.empty() && !source_)
      end();
  }

  void on_closed() {
    ended_ = true;
    cancel_timer();
    if (handler_timer_ != 0)
      self_.connection()->cancel_timer(handler_timer_);
    handler_timer_ = 0;
    stop_source();
    if (ws_)
      ws_->on_closed();
    for (auto& s : queue_)
      if (s.res.body_source)
        self_.connection()->send_exit(s.res.body_source,
                                      caf::exit_reason::user_shutdown);
    queue_.clear();
  }

  /// WebSocket traffic once the protocol was switched; false before.
  bool on_websocket(server_frame& f) {
    if (!ws_)
      return false;
    ws_->on_frame(f.ws);
    return true;
  }

  caf::result<void> ws_send(ws_message& m) {
    if (!ws_)
      return make_actio_error(errc::closed, "not a WebSocket connection");
    return ws_->send(m);
  }

  void ws_close_from(ws_close& c) {
    if (ws_)
      ws_->close(valid_close_code(c.code) ? c.code : ws_status::internal_error,
                 std::move(c.reason));
  }

  void on_read_closed() {
    if (ws_) {
      ws_->on_read_closed();
      return;
    }
    peer_eof_ = true;
    wind_down();
  }

  void on_draining() {
    if (ws_)
      ws_->close(ws_status::going_away, "server shutting down");
    else
      wind_down();
  }

private:
  void push_error(uint16_t status, const std::string& text) {
    push_error(response::text(status, text + "\n"));
  }

  void push_error(response r) {
    closing_ = true;
    slot s;
    s.ready = true;
    s.keep_alive = false;
    s.res = std::move(r);
    queue_.push_back(std::move(s));
    ++next_;
    flush();
  }

  void answer(uint64_t seq, response r) {
    // Dropped after the end, or when too late (answered 504 already).
    if (ended_ || seq < first_ || seq - first_ >= queue_.size()
        || queue_[seq - first_].ready) {
      if (r.body_source)
        self_.connection()->send_exit(r.body_source,
                                      caf::exit_reason::user_shutdown);
      return;
    }
    auto& s = queue_[seq - first_];
    s.res = std::move(r);
    s.ready = true;
    flush();
  }

  /// Sends the answers that are next in order.
  void flush() {
    while (!ended_ && !source_ && !queue_.empty() && queue_.front().ready) {
      auto s = std::move(queue_.front());
      queue_.pop_front();
      ++first_;
      if (opts_.counters)
        opts_.counters->count(s.interim ? 100 : s.res.status);
      if (s.interim) {
        response cont;
        cont.status = 100;
        cont.omit_body = true;
        self_.send(cont);
        continue;
      }
      if (s.websocket && s.res.ws_handler) {
        switch_protocols(std::move(s.res.ws_handler));
        return;
      }
      if (s.res.ws_handler) // (accept_websocket for something else)
        s.res = response::text(500, "not a WebSocket handshake\n");
      bool last = !s.keep_alive || (closing_ && queue_.empty());
      auto& r = s.res;
      prepare(s, last);
      if (last)
        closing_ = true; // (a close-delimited body makes it the last)
      bool stream = r.body_source && !r.omit_body && r.body_length > 0;
      if (r.body_source && !stream)
        self_.connection()->send_exit(r.body_source,
                                      caf::exit_reason::user_shutdown);
      if (stream) {
        source_ = r.body_source;
        remaining_ = r.body_length;
        chunked_ = r.body_length == unknown_length && s.version >= 11;
        last_ = last;
        r.omit_body = true; // the head; the body is pulled
      }
      self_.send(r);
      if (stream) {
        pull();
        return;
      }
      if (last) {
        end();
        return;
      }
    }
    if (!ended_ && queue_.empty() && !source_)
      arm_timer();
  }

  /// Answers 101, then the connection speaks WebSocket (the codec held
  /// back the bytes after the upgrade request until now).
  void switch_protocols(caf::actor handler) {
    cancel_timer();
    self_.send(websocket_switch(ws_request_));
    self_.codec().switch_to_websocket();
    ws_ = std::make_shared<detail::websocket_session>(
      self_, std::move(handler), opts_.websocket, opts_.framed.max_send_queue);
    ws_->open(std::move(ws_request_));
    if (peer_eof_) { // the client half-closed before the switch: 1006
      self_.finish(); // (the 101 is written first)
      return;
    }
    self_.resume(); // decode what arrived after the request
  }

  /// Sets the headers the server owns; a body of unknown length to an
  /// HTTP/1.0 client ends with the connection (`last` becomes true).
  void prepare(slot& s, bool& last) {
    auto& r = s.res;
    auto& hs = r.headers;
    hs.erase(std::remove_if(hs.begin(), hs.end(),
                            [](auto& h) {
                              auto& n = h.first;
                              return strcasecmp(n.c_str(), "date") == 0
                                     || strcasecmp(n.c_str(), "content-length") == 0
                                     || strcasecmp(n.c_str(), "connection") == 0
                                     || strcasecmp(n.c_str(), "transfer-encoding") == 0;
                            }),
             hs.end());
    bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
    hs.emplace_back("Date", current_date());
    bool unknown = r.body_source && r.body_length == unknown_length;
    if (no_body) {
      // no framing headers
    } else if (!unknown) {
      auto len = r.body_source || r.body.empty() ? r.body_length : r.body.size();
      hs.emplace_back("Content-Length", std::to_string(len));
    } else if (s.version >= 11) {
      hs.emplace_back("Transfer-Encoding", "chunked");
    } else if (!s.head) {
      last = true; // close-delimited
    }
    if (last)
      hs.emplace_back("Connection", "close");
    else if (s.version == 10)
      hs.emplace_back("Connection", "keep-alive");
    r.omit_body = s.head || no_body;
  }

  void pull() {
    auto me = shared_from_this();
    auto n = std::min<uint64_t>(remaining_, opts_.stream_chunk);
    self_.connection()
      ->request(source_, opts_.handler_timeout, pull_atom::value, uint64_t{n})
      .then([me](byte_buffer& bytes) { me->piece(std::move(bytes)); },
            [me](caf::error& err) { me->abort_stream(std::move(err)); });
  }

  void piece(byte_buffer bytes) {
    if (!source_)
      return;
    if (bytes.empty() && remaining_ == unknown_length) { // the body's end
      remaining_ = 0;
      if (!chunked_) {
        written();
        return;
      }
      // the last chunk, written like the others
    } else if (bytes.empty() || bytes.size() > remaining_) {
      abort_stream(make_actio_error(errc::truncated,
                                    "http body source gave "
                                      + std::to_string(bytes.size())
                                      + " bytes, " + std::to_string(remaining_)
                                      + " expected"));
      return;
    } else if (remaining_ != unknown_length) {
      remaining_ -= bytes.size();
    }
    response d;
    d.data_only = true;
    d.chunk = chunked_;
    d.body = std::move(bytes);
    // Sent through the connection's own request so that the answer comes
    // once the bytes are written: the next piece waits for that.
    auto me = shared_from_this();
    self_.connection()
      ->request(self_.handle(), caf::infinite, io::send_frame_atom::value,
                std::move(d))
      .then([me]() { me->written(); }, [](caf::error&) {
        // the connection is closing; connection_closed cleans up
      });
  }

  void written() {
    if (!source_)
      return;
    if (remaining_ > 0) {
      pull();
      return;
    }
    stop_source();
    if (last_)
      end();
    else
      flush();
  }

  void abort_stream(caf::error err) {
    stop_source();
    ended_ = true;
    self_.close(std::move(err)); // the head promised more bytes
  }

  void stop_source() {
    if (source_)
      self_.connection()->send_exit(source_, caf::exit_reason::user_shutdown);
    source_ = nullptr;
  }

  void end() {
    if (ended_)
      return;
    ended_ = true;
    cancel_timer();
    self_.finish();
    linger_ = self_.connection()->start_timer(opts_.linger);
  }

  void arm_timer() {
    cancel_timer();
    timer_ = self_.connection()->start_timer(opts_.request_timeout);
  }

  void cancel_timer() {
    if (timer_ != 0)
      self_.connection()->cancel_timer(timer_);
    timer_ = 0;
  }

  self_t self_;
  server_options opts_;
  std::deque<slot> queue_;
  uint64_t first_ = 0; // sequence number of queue_.front()
  uint64_t next_ = 0;  // of the next request
  bool closing_ = false; // no further requests: close after the queue
  bool ended_ = false;   // finishing or closed
  bool peer_eof_ = false; // read_closed came (before a WebSocket switch)
  caf::actor source_;    // the body being streamed
  uint64_t remaining_ = 0; // or unknown_length until the source's end
  bool chunked_ = false;   // the body is written as chunks
  bool last_ = false;    // close after the streamed response
  op_id timer_ = 0;
  op_id handler_timer_ = 0; // watches the oldest unanswered handler
  op_id linger_ = 0;
  request ws_request_; // the WebSocket handshake being answered
  std::shared_ptr<detail::websocket_session> ws_;
};

} // namespace

std::shared_ptr<const response_counters>
response_counters::in(metrics::registry& reg, const std::string& server) {
  auto c = std::make_shared<response_counters>();
  for (size_t i = 0; i < c->by_class.size(); ++i)
    c->by_class[i] = &reg.counter("actio_http_responses_total",
                                  "HTTP responses sent, by status class",
                                  {{"server", server},
                                   {"code", std::to_string(i + 1) + "xx"}});
  return c;
}

net::connection_factory server(server_options opts) {
  auto lim = opts.request_limits;
  auto fopts = opts.framed;
  auto max_ws = opts.websocket.max_message;
  return io::framed_with<server_codec>(
    [lim, max_ws] { return server_codec{lim, max_ws}; },
    [opts](self_t self) -> caf::behavior {
      auto s = std::make_shared<session>(self, opts);
      s->start();
      return {
        [s](server_frame& f) {
          if (!s->on_websocket(f))
            s->on_request(f.req);
        },
        [s](ws_message& m) { return s->ws_send(m); },
        [s](ws_close& c) { s->ws_close_from(c); },
        [s](const timer_expired& t) { s->on_timer(t.id); },
        [s](const read_closed&) { s->on_read_closed(); },
        [s](const draining&) { s->on_draining(); },
        [s](const connection_closed&) { s->on_closed(); },
      };
    },
    fopts);
}

} // namespace actio::http
