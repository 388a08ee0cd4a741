#pragma once

// The error texts and the reply step both helper-thread file engines (the
// blocking file pool and the POSIX AIO engine) share, so a closed or
// cancelled file reads the same on every backend. Internal.

#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include "actio/drivers/errc.hpp"

namespace actio::detail {

/// "<what>: file is closed (<path or id>)".
inline caf::error closed_error(const char* what, const std::string& name) {
  return make_actio_error(errc::closed, std::string{what} + ": file is closed ("
                                          + name + ")");
}

/// "<what> <path>: cancelled<why>".
inline caf::error cancelled_error(const char* what, const std::string& path,
                                  const char* why) {
  std::string text = what;
  text.append(" ").append(path).append(": cancelled").append(why);
  return make_actio_error(errc::cancelled, std::move(text));
}

/// Completes `rp` once: with `err` if set, else with `value`; nothing if it
/// was answered already.
template <class T>
void reply(caf::response_promise& rp, caf::error& err, T&& value) {
  if (!rp.pending())
    return;
  if (err)
    rp.deliver(std::move(err));
  else
    rp.deliver(std::forward<T>(value));
}

} // namespace actio::detail
