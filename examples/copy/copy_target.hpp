#pragma once

// What actio-copy checks before it opens anything for writing, as cp does:
// SRC and DST are not the same file, SRC is not a directory, DST may be a
// directory to copy into. Plain stat(2) calls on the caller's thread, once
// per run; the copy itself goes through the file service.

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

/// The file actio-copy writes and how to read the source.
struct copy_target {
  /// DST, or DST/<last component of SRC> when DST is a directory.
  std::string dst;
  /// SRC is a FIFO, socket or character device: read one chunk at a time at
  /// the current position until a read returns nothing (its size is
  /// unknown, and positioned reads fail on a pipe).
  bool stream = false;
  /// DST is, or will be, a regular file: its size is checked after the copy,
  /// and an error says that a partial file was left there. False for
  /// /dev/null and other devices.
  bool dst_regular = true;
  /// Permission bits for a new DST: the source's (open(2) masks them with
  /// the umask); an existing DST keeps its own.
  uint32_t mode = 0644;
};

/// Resolves DST for copying SRC and refuses what cp refuses: SRC a
/// directory (`errc::is_directory`), SRC and DST the same file after
/// following symlinks, hard links included, and DST a dangling symlink
/// (`errc::invalid_argument`). Nothing is opened; a SRC that cannot be
/// stat'ed is left for the copy's open to report ("open SRC: No such file
/// or directory").
caf::expected<copy_target> resolve_copy_target(const std::string& src,
                                               const std::string& dst);
