#pragma once

// A raw-socket HTTP/1.1 client for the tests: sends bytes as given and
// reads responses (status line, headers, a Content-Length or chunked body,
// or one delimited by the server's close) with bounded waits. Nothing here
// is lenient on the server's behalf: a chunk not framed exactly as RFC 9112
// says fails the read.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/net_client.hpp"

namespace actio::test::http_client {

struct reply {
  int status = 0; // 0: nothing (EOF or timeout)
  std::string head; // status line and headers
  std::string body;
  std::vector<size_t> chunks; // sizes of a chunked body's chunks, the last 0
  /// The first value of header `name` (case-insensitive); "" if none.
  std::string header(const std::string& name) const {
    auto lower = [](std::string s) {
      for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    auto h = lower(head);
    auto key = "\r\n" + lower(name) + ":";
    auto i = h.find(key);
    if (i == std::string::npos)
      return {};
    auto start = i + key.size();
    auto end = head.find("\r\n", start);
    auto v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ')
      v.erase(0, 1);
    return v;
  }
};

inline bool send_text(int fd, const std::string& s) {
  return send_all(fd, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

/// A connection with its read buffer (bytes after one response stay).
struct conn {
  int fd = -1;
  std::string buf;
  bool eof = false; // the server closed (fill saw EOF)
  explicit conn(uint16_t port) : fd(connect_tcp(port)) {
  }
  conn(const conn&) = delete;
  ~conn() {
    if (fd >= 0)
      ::close(fd);
  }
  bool send(const std::string& s) {
    return send_text(fd, s);
  }
  /// Reads more into `buf`; false on EOF, error or timeout.
  bool fill(clock::duration timeout) {
    pollfd p{fd, POLLIN, 0};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    if (::poll(&p, 1, static_cast<int>(ms)) <= 0)
      return false;
    char tmp[65536];
    auto n = ::recv(fd, tmp, sizeof(tmp), 0);
    eof = eof || n == 0;
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  /// How a body ends when the head states no length.
  enum class unframed { empty, at_close };

  /// Fills `buf` until it holds `n` bytes; false at EOF or the deadline.
  bool want(size_t n, clock::time_point deadline) {
    while (buf.size() < n)
      if (clock::now() >= deadline || !fill(deadline - clock::now()))
        return false;
    return true;
  }

  /// Reads the chunks of a chunked body into `r`; false if cut short or
  /// malformed (then `r.status` is -1).
  bool read_chunks(reply& r, clock::time_point deadline) {
    for (;;) {
      size_t eol;
      while ((eol = buf.find("\r\n")) == std::string::npos)
        if (clock::now() >= deadline || !fill(deadline - clock::now()))
          return r.status = -1, false;
      auto line = buf.substr(0, eol);
      size_t used = 0;
      size_t n = line.empty() ? 0 : std::stoul(line, &used, 16);
      if (line.empty() || used != line.size())
        return r.status = -1, false; // (the server writes no extensions)
      if (!want(eol + 2 + n + 2, deadline) || buf.compare(eol + 2 + n, 2, "\r\n") != 0)
        return r.status = -1, false;
      r.body.append(buf, eol + 2, n);
      r.chunks.push_back(n);
      buf.erase(0, eol + 2 + n + 2);
      if (n == 0) // the last chunk; no trailers: its CRLF ended the body
        return true;
    }
  }

  /// One response; `head_only`: a HEAD answer (no body despite the length).
  /// A body without Content-Length or chunking is empty, or with
  /// `unframed::at_close` everything until the server closes.
  reply read(bool head_only = false, clock::duration timeout = std::chrono::seconds{20},
             unframed rest = unframed::empty) {
    reply r;
    auto deadline = clock::now() + timeout;
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (clock::now() >= deadline || !fill(deadline - clock::now()))
        return r;
    r.head = buf.substr(0, end + 2);
    buf.erase(0, end + 4);
    if (r.head.size() < 12)
      return r;
    r.status = std::stoi(r.head.substr(9, 3));
    if (head_only)
      return r;
    if (r.header("transfer-encoding") == "chunked") {
      read_chunks(r, deadline);
      return r;
    }
    size_t len = 0;
    auto cl = r.header("content-length");
    if (!cl.empty())
      len = std::stoull(cl);
    else if (rest == unframed::at_close) {
      while (clock::now() < deadline && fill(deadline - clock::now())) {
      }
      if (!eof) {
        r.status = -1; // no close in time
        return r;
      }
      len = buf.size();
    }
    if (!want(len, deadline)) {
      r.status = -1; // body cut short
      return r;
    }
    r.body = buf.substr(0, len);
    buf.erase(0, len);
    return r;
  }
  /// True if the server closes (EOF) within `timeout`, nothing else sent.
  bool closed(clock::duration timeout = std::chrono::seconds{20}) {
    auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      char tmp[4096];
      auto n = ::recv(fd, tmp, sizeof(tmp), 0);
      if (n == 0)
        return buf.empty();
      if (n < 0)
        return buf.empty(); // a reset ends it too
      buf.append(tmp, static_cast<size_t>(n));
    }
    return false;
  }
};

/// Runs `bin args...` to its end (at most 60 s): its stdout (stderr too if
/// `merge`); a non-zero exit fails the calling test. (curl, python3.)
inline std::string run_program(const std::string& bin,
                               const std::vector<std::string>& args,
                               bool merge = false) {
  spawn_options o;
  o.merge_stderr = merge;
  auto c = spawn_process(bin, args, o);
  auto out = c.read_all(std::chrono::seconds{60});
  EXPECT_EQ(c.stop(0, std::chrono::seconds{30}), 0) << bin << " exit status";
  return out;
}

} // namespace actio::test::http_client
