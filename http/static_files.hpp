#pragma once

/// A handler actor (http/server.hpp) serving the files under a directory
/// through the file service (io/file_service.hpp).
///
/// - GET and HEAD (others: 405 with `Allow`); `/` and directories serve
///   their `index.html`.
/// - Confined like the remote file service: the percent-decoded path is
///   opened with openat2(RESOLVE_BENEATH) below the root, so neither `..`
///   (also encoded as `%2e%2e`) nor a symlink leads outside; a `..`
///   segment is refused outright (403), a symlink leaving the root is 403,
///   a missing file 404, a NUL or a bad escape 400; only regular files are
///   served.
/// - `Content-Type` from a small extension table
///   (application/octet-stream otherwise), `Last-Modified`,
///   `If-Modified-Since` (304), `Accept-Ranges: bytes` and `Range` with one
///   range (`bytes=a-b`, `a-`, `-n`: 206 with `Content-Range`; past the end:
///   416; several ranges or a malformed one: the whole file, 200).
/// - The body streams from the file in pieces the server pulls
///   (`response::body_source`), so a slow client holds one piece at a time.

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

namespace actio::http {

/// Spawns the handler for the directory `root`, reading through `files`
/// (a file service). Fails with `not_found` / `not_a_directory`-style
/// typed errors when `root` cannot be opened as a directory.
caf::expected<caf::actor> spawn_static_files(caf::actor_system& sys,
                                             caf::actor files,
                                             const std::string& root);

/// The `Content-Type` for a file name, by its extension.
std::string content_type_for(const std::string& name);

} // namespace actio::http
