#pragma once

/// The few socket calls that differ between Linux and the BSDs, for the
/// readiness driver core. On Linux each is the plain call epoll always made.

#include <cerrno>

#include <fcntl.h>
#include <sys/socket.h>

namespace actio::detail {

/// Flags for send/sendmsg: no SIGPIPE on a peer that went away.
#ifdef MSG_NOSIGNAL
inline constexpr int send_flags = MSG_NOSIGNAL;
#else
inline constexpr int send_flags = 0; // SO_NOSIGPIPE: see no_sigpipe()
#endif

/// Where MSG_NOSIGNAL is missing (macOS), asks the socket for the same.
inline void no_sigpipe([[maybe_unused]] int fd) noexcept {
#ifdef SO_NOSIGPIPE
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
}

/// Makes the socket call `call()` again while it fails with EINTR (a signal
/// interrupted it: retry, never an error) and returns its last result.
template <class Call>
inline auto no_eintr(Call call) noexcept(noexcept(call())) {
  auto rc = call();
  while (rc < 0 && errno == EINTR)
    rc = call();
  return rc;
}

/// Whether a non-blocking call's `err` means "nothing more now": wait for
/// the poller's next event on the socket.
inline bool would_block(int err) noexcept {
  return err == EAGAIN || err == EWOULDBLOCK;
}

/// accept(2) returning a non-blocking, close-on-exec descriptor.
inline int accept_nonblocking(int fd) noexcept {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  int conn = ::accept(fd, nullptr, nullptr);
  if (conn >= 0) {
    ::fcntl(conn, F_SETFD, FD_CLOEXEC);
    ::fcntl(conn, F_SETFL, ::fcntl(conn, F_GETFL) | O_NONBLOCK);
  }
  return conn;
#endif
}

} // namespace actio::detail
