#include "actio/net/socket_options.hpp"

#include <cerrno>
#include <string>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

namespace {

caf::error out_of_range(const char* name, int value, int max) {
  std::string text = "socket option ";
  text += name;
  text += " = ";
  text += std::to_string(value);
  text += ": must be 0 (kernel default) or 1..";
  text += std::to_string(max);
  return make_actio_error(errc::invalid_argument, std::move(text));
}

caf::error set(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
    return make_errno_error(what, errno);
  return caf::none;
}

} // namespace

caf::error validate(const socket_options& opts) {
  // The kernel's own limits (MAX_TCP_KEEPIDLE etc.), so a bad value fails
  // here, typed, instead of on every connection later.
  if (opts.keepalive_idle < 0 || opts.keepalive_idle > 32767)
    return out_of_range("keepalive_idle", opts.keepalive_idle, 32767);
  if (opts.keepalive_interval < 0 || opts.keepalive_interval > 32767)
    return out_of_range("keepalive_interval", opts.keepalive_interval, 32767);
  if (opts.keepalive_count < 0 || opts.keepalive_count > 127)
    return out_of_range("keepalive_count", opts.keepalive_count, 127);
  constexpr int max_buffer = 1 << 30;
  if (opts.send_buffer < 0 || opts.send_buffer > max_buffer)
    return out_of_range("send_buffer", opts.send_buffer, max_buffer);
  if (opts.receive_buffer < 0 || opts.receive_buffer > max_buffer)
    return out_of_range("receive_buffer", opts.receive_buffer, max_buffer);
  return caf::none;
}

caf::error apply_socket_options(int fd, const socket_options& opts, bool tcp) {
  if (opts.send_buffer > 0)
    if (auto err = set(fd, SOL_SOCKET, SO_SNDBUF, opts.send_buffer,
                       "setsockopt(SO_SNDBUF)"))
      return err;
  if (opts.receive_buffer > 0)
    if (auto err = set(fd, SOL_SOCKET, SO_RCVBUF, opts.receive_buffer,
                       "setsockopt(SO_RCVBUF)"))
      return err;
  if (!tcp)
    return caf::none;
  if (auto err = set(fd, IPPROTO_TCP, TCP_NODELAY, opts.nodelay ? 1 : 0,
                     "setsockopt(TCP_NODELAY)"))
    return err;
  if (!opts.keepalive)
    return caf::none;
  if (auto err = set(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "setsockopt(SO_KEEPALIVE)"))
    return err;
  if (opts.keepalive_idle > 0)
    if (auto err = set(fd, IPPROTO_TCP, TCP_KEEPIDLE, opts.keepalive_idle,
                       "setsockopt(TCP_KEEPIDLE)"))
      return err;
  if (opts.keepalive_interval > 0)
    if (auto err = set(fd, IPPROTO_TCP, TCP_KEEPINTVL, opts.keepalive_interval,
                       "setsockopt(TCP_KEEPINTVL)"))
      return err;
  if (opts.keepalive_count > 0)
    if (auto err = set(fd, IPPROTO_TCP, TCP_KEEPCNT, opts.keepalive_count,
                       "setsockopt(TCP_KEEPCNT)"))
      return err;
  return caf::none;
}

} // namespace actio::net
