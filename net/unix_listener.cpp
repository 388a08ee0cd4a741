#include "actio/net/unix_listener.hpp"

#include <cerrno>

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "actio/drivers/errc.hpp"
#include "actio/net/detail/listener_actor.hpp"
#include "actio/net/unix_address.hpp"

namespace actio::net {

namespace {

/// Removes the socket file when the listener ends, unless the path no
/// longer names our socket (someone replaced it meanwhile).
struct path_guard {
  std::string path;
  dev_t dev;
  ino_t ino;
  path_guard(std::string p, dev_t d, ino_t i)
    : path(std::move(p)), dev(d), ino(i) {
  }
  path_guard(const path_guard&) = delete; // one owner: one unlink
  path_guard& operator=(const path_guard&) = delete;
  ~path_guard() {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
      ::unlink(path.c_str());
  }
};

/// What is at `path`: nothing (ok), a stale socket (removed, ok), or an
/// error: a live listener's socket or something that is not a socket.
caf::error clear_stale(const std::string& path, const connect_target& addr) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) < 0)
    return errno == ENOENT ? caf::error{}
                           : make_path_error("stat", path, errno);
  if (!S_ISSOCK(st.st_mode))
    return make_actio_error(errc::address_in_use,
                            "bind " + path
                              + ": exists and is not a socket (left alone)");
  // Probe: a live listener accepts (or, with a full backlog, EAGAIN); a
  // socket file without a listener refuses.
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0)
    return make_errno_error("socket", errno);
  int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr.addr),
                     addr.len);
  int err = rc < 0 ? errno : 0;
  ::close(probe);
  if (err == ECONNREFUSED) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
      return make_path_error("unlink stale socket", path, errno);
    return caf::none;
  }
  if (err == 0 || err == EAGAIN || err == EINPROGRESS)
    return make_actio_error(errc::address_in_use,
                            "bind " + path + ": a listener serves it");
  return make_path_error("connect (probe)", path, err);
}

} // namespace

caf::expected<listener> unix_listen(runtime& rt, const unix_listen_options& opts,
                                    connection_factory factory,
                                    connection_options conn_opts) {
  auto addr = unix_target(opts.path);
  if (!addr)
    return std::move(addr.error());
  if (opts.backlog < 1)
    return make_actio_error(errc::invalid_argument,
                            "listen backlog must be at least 1, not "
                              + std::to_string(opts.backlog));
  if (opts.mode < -1 || opts.mode > 07777)
    return make_actio_error(errc::invalid_argument,
                            "socket file mode out of range: "
                              + std::to_string(opts.mode));
  if (opts.mode >= 0 && is_abstract(opts.path))
    return make_actio_error(errc::invalid_argument,
                            "an abstract name has no file mode: " + opts.path);
  if (auto err = validate(conn_opts.socket))
    return err;
  if (conn_opts.tls && !conn_opts.tls->is_server())
    return make_actio_error(errc::invalid_argument,
                            "a listener needs a server TLS context "
                            "(tls_context::make_server)");
  bool file = !is_abstract(opts.path);
  if (file)
    if (auto err = clear_stale(opts.path, *addr))
      return err;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_errno_error("socket", errno);
  owned_fd owned{fd};
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) < 0)
    return make_path_error("bind", opts.path, errno);
  std::shared_ptr<path_guard> guard;
  if (file) {
    struct stat st{};
    if (::lstat(opts.path.c_str(), &st) < 0)
      return make_path_error("stat", opts.path, errno);
    guard = std::make_shared<path_guard>(opts.path, st.st_dev, st.st_ino);
    // Before listen(): nobody can connect with the wrong permissions.
    if (opts.mode >= 0
        && ::chmod(opts.path.c_str(), static_cast<mode_t>(opts.mode)) < 0)
      return make_path_error("chmod", opts.path, errno);
  }
  if (::listen(fd, opts.backlog) < 0)
    return make_path_error("listen", opts.path, errno);
  auto actor = detail::spawn_listener(rt, std::move(owned), 0,
                                      "unix:" + opts.path, std::move(guard),
                                      opts.max_connections, std::move(factory),
                                      conn_opts);
  return listener{std::move(actor), 0};
}

} // namespace actio::net
