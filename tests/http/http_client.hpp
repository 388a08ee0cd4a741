#pragma once

// A raw-socket HTTP/1.1 client for the tests: sends bytes as given and
// reads responses (status line, headers, Content-Length body) with bounded
// waits. Nothing here is lenient on the server's behalf.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "support/net_client.hpp"

namespace actio::test::http_client {

struct reply {
  int status = 0; // 0: nothing (EOF or timeout)
  std::string head; // status line and headers
  std::string body;
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
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  /// One response; `head_only`: a HEAD answer (no body despite the length).
  reply read(bool head_only = false, clock::duration timeout = std::chrono::seconds{20}) {
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
    size_t len = 0;
    auto cl = r.header("content-length");
    if (!cl.empty() && !head_only)
      len = std::stoull(cl);
    while (buf.size() < len)
      if (clock::now() >= deadline || !fill(deadline - clock::now())) {
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

} // namespace actio::test::http_client
