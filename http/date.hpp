#pragma once

/// HTTP dates (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace actio::http {

/// `t` as an IMF-fixdate.
std::string format_date(std::time_t t);

/// The current time as an IMF-fixdate, formatted at most once a second
/// per thread (the `Date` header of every response).
const std::string& current_date();

/// Parses an IMF-fixdate (the form servers send and clients echo in
/// If-Modified-Since); nullopt for anything else.
std::optional<std::time_t> parse_date(std::string_view text);

} // namespace actio::http
