#pragma once

// Test clients of actio-chat: a text-line peer and a protobuf-frame peer on
// a blocking socket, every read bounded by a deadline.

#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "actio/proto/chat.pb.h"
#include "support/net_client.hpp"

namespace actio::test {

namespace chatpb = actio::proto::chat;

/// Concatenation by append (GCC 12 -Wrestrict misfires on operator+).
template <class... Ts>
std::string cat(const Ts&... xs) {
  std::string out;
  (out.append(xs), ...);
  return out;
}

/// A running actio-chat on an OS-chosen port.
struct chat_server {
  child_process child;
  uint16_t port = 0;
  explicit chat_server(std::vector<std::string> args = {})
    : child(spawn_process(ACTIO_CHAT_BIN, with_port(std::move(args)))),
      port(parse_port(child.read_line(30s))) {
  }
  static std::vector<std::string> with_port(std::vector<std::string> args) {
    args.insert(args.begin(), {"--port", "0"});
    return args;
  }
};

/// A connected socket with a receive buffer. A protobuf client must send
/// its first frame within a second of connecting (else the server takes it
/// for a text client): connect it right before it sends.
class chat_peer {
public:
  explicit chat_peer(uint16_t port) : fd_(connect_tcp(port)) {
  }
  ~chat_peer() {
    close();
  }
  chat_peer(const chat_peer&) = delete;
  chat_peer& operator=(const chat_peer&) = delete;

  bool ok() const {
    return fd_ >= 0;
  }
  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  bool send_raw(const std::string& bytes) {
    return send_all(fd_, reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size());
  }

  /// Text mode: sends `line` and a newline.
  bool send_line(const std::string& line) {
    return send_raw(cat(line, "\n"));
  }

  /// Text mode: the next line (without newline); nullopt at EOF/timeout.
  /// The server's welcome (a text client's first line) is skipped unless
  /// `keep_welcome` was called.
  std::optional<std::string> line(clock::duration timeout = 30s) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        auto out = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!first_line_seen_) {
          first_line_seen_ = true;
          if (skip_welcome_ && out.rfind("* welcome to actio-chat", 0) == 0)
            continue;
        }
        return out;
      }
      if (!fill(deadline))
        return std::nullopt;
    }
  }

  /// Text mode: `line` returns the welcome line too.
  void keep_welcome() {
    skip_welcome_ = false;
  }

  /// Text mode: reads lines until one contains `what`; false if none did.
  bool wait_for(const std::string& what, clock::duration timeout = 30s) {
    auto deadline = clock::now() + timeout;
    while (auto l = line(deadline - clock::now()))
      if (l->find(what) != std::string::npos)
        return true;
    return false;
  }

  /// Protobuf mode: sends one frame with `req`.
  bool send_request(const chatpb::Request& req) {
    return send_raw(frame(req.SerializeAsString()));
  }

  /// A frame header and `payload`.
  static std::string frame(const std::string& payload, size_t declared = 0) {
    auto n = static_cast<uint32_t>(declared ? declared : payload.size());
    std::string out{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
    return out.append(payload);
  }

  /// Protobuf mode: the next event; nullopt at EOF/timeout or when the
  /// frame does not parse.
  std::optional<chatpb::Event> event(clock::duration timeout = 30s) {
    auto deadline = clock::now() + timeout;
    for (;;) {
      if (buf_.size() >= 4) {
        auto b = reinterpret_cast<const uint8_t*>(buf_.data());
        size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16)
                     | (size_t{b[2]} << 8) | size_t{b[3]};
        if (buf_.size() >= 4 + len) {
          chatpb::Event ev;
          bool parsed = ev.ParseFromArray(buf_.data() + 4,
                                          static_cast<int>(len));
          buf_.erase(0, 4 + len);
          if (!parsed)
            return std::nullopt;
          return ev;
        }
      }
      if (!fill(deadline))
        return std::nullopt;
    }
  }

  /// True when the server closed (EOF) within `timeout`, all data read.
  bool eof(clock::duration timeout = 30s) {
    auto deadline = clock::now() + timeout;
    while (fill(deadline))
      buf_.clear();
    return eof_;
  }

private:
  bool fill(clock::time_point deadline) {
    if (fd_ < 0 || eof_)
      return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char tmp[65536];
    auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      eof_ = true; // EOF or reset: the server closed
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buf_;
  bool eof_ = false;
  bool skip_welcome_ = true;
  bool first_line_seen_ = false;
};

/// A FIFO in a fresh temporary directory (removed with it).
struct temp_fifo {
  std::string dir, path;
  temp_fifo() {
    char tmpl[] = "/tmp/actio-chat-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      dir = tmpl;
      path = dir + "/stdin";
      if (::mkfifo(path.c_str(), 0600) != 0)
        path.clear();
    }
  }
  ~temp_fifo() {
    if (!path.empty())
      ::unlink(path.c_str());
    if (!dir.empty())
      ::rmdir(dir.c_str());
  }
};

inline chatpb::Request nick_request(const std::string& nick) {
  chatpb::Request r;
  r.mutable_nick()->set_nick(nick);
  return r;
}

inline chatpb::Request join_request(const std::string& room) {
  chatpb::Request r;
  r.mutable_join()->set_room(room);
  return r;
}

inline chatpb::Request say_request(const std::string& text) {
  chatpb::Request r;
  r.mutable_say()->set_text(text);
  return r;
}

} // namespace actio::test
