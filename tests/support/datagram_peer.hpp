#pragma once

// A plain (blocking, poll-based) datagram socket for tests: the other end of
// the actors under test. Every receive is bounded by a deadline.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actio/drivers/address.hpp"
#include "actio/drivers/types.hpp"
#include "support/net_client.hpp"

namespace actio::test {

class datagram_peer {
public:
  /// A socket of `family` bound to `local` (for AF_UNIX with an empty
  /// address: autobind to a kernel-chosen abstract name).
  datagram_peer(int family, const net::address& local) {
    fd_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      return;
    int rc;
    if (local.empty()) {
      sa_family_t fam = static_cast<sa_family_t>(family);
      rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&fam), sizeof(fam));
    } else {
      rc = ::bind(fd_, local.data(), local.size());
    }
    if (rc < 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    if (auto addr = net::local_address(fd_))
      local_ = *addr;
  }

  ~datagram_peer() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  datagram_peer(const datagram_peer&) = delete;
  datagram_peer& operator=(const datagram_peer&) = delete;

  bool ok() const noexcept {
    return fd_ >= 0;
  }

  int fd() const noexcept {
    return fd_;
  }

  const net::address& local() const noexcept {
    return local_;
  }

  bool send_to(const net::address& to, const byte_buffer& buf) {
    return ::sendto(fd_, buf.data(), buf.size(), 0, to.data(), to.size())
           == static_cast<ssize_t>(buf.size());
  }

  /// The next datagram (at most `max` bytes) and its source, within
  /// `timeout`; nullopt on timeout or error.
  std::optional<byte_buffer> recv(net::address* from = nullptr,
                                  std::chrono::milliseconds timeout
                                  = std::chrono::seconds{30},
                                  size_t max = 65536) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      return std::nullopt;
    byte_buffer buf(max);
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    auto n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT,
                        reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0)
      return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    if (from != nullptr)
      *from = net::address{reinterpret_cast<sockaddr*>(&ss), len};
    return buf;
  }

private:
  int fd_ = -1;
  net::address local_;
};

/// An IPv4 client of a UDP server process whose first line `line` says
/// where it listens ("... listening on 127.0.0.1:PORT ..."): `server` is
/// that address; `ok()` is false if the line names no port or the socket
/// failed.
class udp_client : public datagram_peer {
public:
  explicit udp_client(const std::string& line)
    : datagram_peer(AF_INET, *net::address::ip("127.0.0.1", 0)),
      port_(parse_port(line)) {
    if (port_ != 0)
      server = *net::address::ip("127.0.0.1", port_);
  }

  bool ok() const noexcept {
    return port_ != 0 && datagram_peer::ok();
  }

  /// Sends `count` datagrams of 100 random bytes, each after the answer to
  /// the one before (so none is dropped by a full socket buffer); succeeds
  /// if every answer came and had `size` bytes (the server's truncation).
  ::testing::AssertionResult lock_step_echoes(size_t count, size_t size) {
    auto data = random_bytes(100, 7);
    for (size_t i = 0; i < count; ++i) {
      if (!send_to(server, data))
        return ::testing::AssertionFailure() << "send of datagram " << i;
      auto got = recv();
      if (!got)
        return ::testing::AssertionFailure() << "no answer to datagram " << i;
      if (got->size() != size)
        return ::testing::AssertionFailure()
               << "answer " << i << " has " << got->size() << " bytes";
    }
    return ::testing::AssertionSuccess();
  }

  net::address server;

private:
  uint16_t port_;
};

} // namespace actio::test
