#pragma once

/// Unix-domain socket names: a filesystem path, or "@name" for a Linux
/// abstract name (no file; the kernel frees it with the last socket).

#include <string>

#include <caf/expected.hpp>

#include "actio/net/resolver.hpp"

namespace actio::net {

/// `name` as a sockaddr_un: "@x" becomes the abstract name "\0x". Empty
/// names and names longer than sun_path are `errc::invalid_argument`.
caf::expected<connect_target> unix_target(const std::string& name);

/// True for "@name" (abstract) names.
inline bool is_abstract(const std::string& name) {
  return !name.empty() && name.front() == '@';
}

} // namespace actio::net
