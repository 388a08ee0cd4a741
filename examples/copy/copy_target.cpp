#include "copy_target.hpp"

#include <sys/stat.h>

#include <cerrno>

#include <filesystem>

#include "actio/drivers/errc.hpp"

using actio::errc;
using actio::make_actio_error;

namespace {

std::string in_quotes(const std::string& path) {
  return "'" + path + "'";
}

} // namespace

caf::expected<copy_target> resolve_copy_target(const std::string& src,
                                               const std::string& dst) {
  copy_target result;
  result.dst = dst;
  struct stat src_st {};
  bool src_known = ::stat(src.c_str(), &src_st) == 0;
  if (src_known) {
    if (S_ISDIR(src_st.st_mode))
      return make_actio_error(errc::is_directory,
                              in_quotes(src)
                                + " is a directory (actio-copy copies files;"
                                  " nothing written)");
    result.stream = S_ISFIFO(src_st.st_mode) || S_ISCHR(src_st.st_mode)
                    || S_ISSOCK(src_st.st_mode);
    result.mode = src_st.st_mode & 0777;
  }
  struct stat dst_st {};
  bool dst_exists = ::stat(result.dst.c_str(), &dst_st) == 0;
  if (dst_exists && S_ISDIR(dst_st.st_mode)) {
    // A SRC ending in '/' has no last component; it is a directory (refused
    // above) or does not exist (its open fails before DST is touched).
    auto name = std::filesystem::path{src}.filename();
    result.dst = (std::filesystem::path{dst} / name).string();
    dst_exists = ::stat(result.dst.c_str(), &dst_st) == 0;
  }
  if (dst_exists) {
    // Checked before DST is opened: opening it with O_TRUNC would empty SRC.
    if (src_known && src_st.st_dev == dst_st.st_dev
        && src_st.st_ino == dst_st.st_ino)
      return make_actio_error(errc::invalid_argument,
                              in_quotes(src) + " and " + in_quotes(result.dst)
                                + " are the same file");
    result.dst_regular = S_ISREG(dst_st.st_mode);
    return result;
  }
  // open(O_CREAT) would create the symlink's target, wherever it points.
  struct stat link_st {};
  if (errno == ENOENT && ::lstat(result.dst.c_str(), &link_st) == 0
      && S_ISLNK(link_st.st_mode))
    return make_actio_error(errc::invalid_argument,
                            "not writing through dangling symlink "
                              + in_quotes(result.dst));
  return result;
}
