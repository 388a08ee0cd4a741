#pragma once

// `file_backend::dup_file` for every backend: one file table entry's
// descriptor duplicated (close-on-exec), or the error saying why not.
// Internal.

#include <cerrno>
#include <string>

#include <fcntl.h>

#include <caf/expected.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/file_backend.hpp"

namespace actio::detail {

/// A new descriptor of `fd` with `path`; "<what> <path>: <reason>" if
/// fcntl fails (EMFILE: the process is out of descriptors).
inline caf::expected<dup_file_result> dup_descriptor(int fd, const char* what,
                                                     const std::string& path) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return make_path_error(what, path, errno);
  return dup_file_result{copy, path};
}

} // namespace actio::detail
