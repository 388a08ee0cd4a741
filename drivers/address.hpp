#pragma once

/// A socket address as a value: `sockaddr_storage` plus its length, for
/// IPv4, IPv6 and AF_UNIX (filesystem paths and Linux abstract names).
///
/// Text forms (`parse` and `to_string` round-trip):
/// - "1.2.3.4:5"            IPv4 and port
/// - "[::1]:5"              IPv6 and port
/// - "/run/x.sock", "./x"   AF_UNIX filesystem path (anything with a '/')
/// - "@name"                AF_UNIX abstract name (Linux; no file)
/// - "(unnamed)"            an AF_UNIX socket that was never bound
/// - ""                     no address (default-constructed)
///
/// In drivers/, the bottom layer, because datagram completions carry an
/// address; the namespace stays `actio::net`.

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/socket.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace actio::net {

class address {
public:
  address() noexcept;

  /// Copies `len` bytes of `sa` (at most sizeof(sockaddr_storage)).
  address(const sockaddr* sa, socklen_t len) noexcept;

  /// Parses one of the text forms above; `errc::invalid_argument` otherwise
  /// (bad IP literal, port out of range, path longer than sun_path).
  static caf::expected<address> parse(std::string_view text);

  /// An IPv4 or IPv6 literal (no brackets) and a port.
  static caf::expected<address> ip(std::string_view host, uint16_t port);

  /// AF_UNIX with a filesystem path, or an abstract name if it starts '@'.
  static caf::expected<address> unix_path(std::string_view path);

  const sockaddr* data() const noexcept {
    return reinterpret_cast<const sockaddr*>(&ss_);
  }

  const sockaddr_storage& storage() const noexcept {
    return ss_;
  }

  socklen_t size() const noexcept {
    return len_;
  }

  /// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC when empty.
  int family() const noexcept {
    return len_ == 0 ? AF_UNSPEC : ss_.ss_family;
  }

  bool empty() const noexcept {
    return len_ == 0;
  }

  /// The port of an IP address; 0 otherwise.
  uint16_t port() const noexcept;

  /// True for an AF_UNIX filesystem path (not abstract, not unnamed).
  bool is_unix_path() const noexcept;

  /// The path or "@name" of an AF_UNIX address.
  std::string unix_name() const;

  friend bool operator==(const address& x, const address& y) noexcept;
  friend bool operator!=(const address& x, const address& y) noexcept {
    return !(x == y);
  }

private:
  sockaddr_storage ss_;
  socklen_t len_;
};

/// The text form (see above).
std::string to_string(const address& x);

/// The local address of a bound socket.
caf::expected<address> local_address(int fd);

/// Travels in messages as its text form.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, address& x) {
  std::string text;
  if constexpr (Inspector::reads_state)
    text = to_string(x);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto parsed = address::parse(text);
    if (!parsed)
      return std::move(parsed.error());
    x = *parsed;
    return caf::none;
  });
  return f(caf::meta::type_name("actio.address"), text, load);
}

} // namespace actio::net
