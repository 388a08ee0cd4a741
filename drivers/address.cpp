#include "actio/drivers/address.hpp"

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "actio/drivers/errc.hpp"

namespace actio::net {

namespace {

caf::error bad(std::string_view text, const char* why) {
  std::string what = "address \"";
  what.append(text).append("\": ").append(why);
  return make_actio_error(errc::invalid_argument, std::move(what));
}

constexpr socklen_t unix_base = offsetof(sockaddr_un, sun_path);

} // namespace

address::address() noexcept : ss_{}, len_(0) {
}

address::address(const sockaddr* sa, socklen_t len) noexcept : ss_{}, len_(0) {
  if (sa != nullptr && len > 0) {
    len_ = std::min<socklen_t>(len, sizeof(ss_));
    std::memcpy(&ss_, sa, len_);
  }
}

caf::expected<address> address::ip(std::string_view host, uint16_t port) {
  std::string h{host};
  address result;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&result.ss_);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    result.len_ = sizeof(sockaddr_in);
    return result;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&result.ss_);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    result.len_ = sizeof(sockaddr_in6);
    return result;
  }
  return bad(host, "not an IPv4 or IPv6 literal");
}

caf::expected<address> address::unix_path(std::string_view path) {
  address result;
  auto* un = reinterpret_cast<sockaddr_un*>(&result.ss_);
  un->sun_family = AF_UNIX;
  if (path == "(unnamed)") {
    result.len_ = sizeof(sa_family_t);
    return result;
  }
  if (path.empty())
    return bad(path, "empty path");
  bool abstract = path.front() == '@';
  // A path needs its terminating NUL; an abstract name starts with a NUL
  // byte (the '@') and has no terminator.
  if (path.size() + (abstract ? 0 : 1) > sizeof(un->sun_path))
    return bad(path, "longer than sun_path (108 bytes)");
  std::memcpy(un->sun_path, path.data(), path.size());
  if (abstract) {
    un->sun_path[0] = '\0';
    result.len_ = static_cast<socklen_t>(unix_base + path.size());
  } else {
    result.len_ = static_cast<socklen_t>(unix_base + path.size() + 1);
  }
  return result;
}

caf::expected<address> address::parse(std::string_view text) {
  if (text.empty())
    return address{};
  if (text.front() == '@' || text.find('/') != std::string_view::npos
      || text == "(unnamed)")
    return unix_path(text);
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return bad(text, "expected HOST:PORT, [V6]:PORT, a path or @name");
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(),
                                   port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size()
      || port_text.empty() || port > 65535)
    return bad(text, "bad port");
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']')
      return bad(text, "unbalanced brackets");
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos)
      return bad(text, "brackets around a non-IPv6 host");
  } else if (host.find(':') != std::string_view::npos) {
    return bad(text, "IPv6 addresses need brackets: [::1]:PORT");
  }
  return ip(host, static_cast<uint16_t>(port));
}

uint16_t address::port() const noexcept {
  if (family() == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
  return 0;
}

bool address::is_unix_path() const noexcept {
  auto* un = reinterpret_cast<const sockaddr_un*>(&ss_);
  return family() == AF_UNIX && len_ > unix_base && un->sun_path[0] != '\0';
}

std::string address::unix_name() const {
  if (family() != AF_UNIX)
    return {};
  auto* un = reinterpret_cast<const sockaddr_un*>(&ss_);
  if (len_ <= unix_base)
    return "(unnamed)";
  size_t n = len_ - unix_base;
  if (un->sun_path[0] == '\0') {
    std::string result{"@"};
    result.append(un->sun_path + 1, n - 1);
    return result;
  }
  return std::string{un->sun_path, strnlen(un->sun_path, n)};
}

bool operator==(const address& x, const address& y) noexcept {
  return x.len_ == y.len_ && std::memcmp(&x.ss_, &y.ss_, x.len_) == 0;
}

std::string to_string(const address& x) {
  char buf[INET6_ADDRSTRLEN];
  switch (x.family()) {
    case AF_INET: {
      auto* v4 = reinterpret_cast<const sockaddr_in*>(x.data());
      inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
      std::string result{buf};
      result.append(":").append(std::to_string(x.port()));
      return result;
    }
    case AF_INET6: {
      auto* v6 = reinterpret_cast<const sockaddr_in6*>(x.data());
      inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
      std::string result{"["};
      result.append(buf).append("]:").append(std::to_string(x.port()));
      return result;
    }
    case AF_UNIX:
      return x.unix_name();
    default:
      return {};
  }
}

caf::expected<address> local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return make_errno_error("getsockname", errno);
  return address{reinterpret_cast<sockaddr*>(&ss), len};
}

} // namespace actio::net
