#include "actio/actors/errc.hpp"

#include <cerrno>
#include <cstring>

namespace actio {

std::string to_string(errc x) {
  switch (x) {
    case errc::cancelled: return "cancelled";
    case errc::closed: return "closed";
    case errc::connection_reset: return "connection_reset";
    case errc::connection_refused: return "connection_refused";
    case errc::timed_out: return "timed_out";
    case errc::too_many_files: return "too_many_files";
    case errc::address_in_use: return "address_in_use";
    case errc::write_queue_full: return "write_queue_full";
    case errc::invalid_argument: return "invalid_argument";
    case errc::unsupported: return "unsupported";
    case errc::backend_unavailable: return "backend_unavailable";
    case errc::shutting_down: return "shutting_down";
    case errc::system_error: return "system_error";
  }
  return "unknown_errc";
}

errc errc_from_errno(int err) noexcept {
  switch (err) {
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
      return errc::connection_reset;
    case ECONNREFUSED: return errc::connection_refused;
    case ETIMEDOUT: return errc::timed_out;
    case EMFILE:
    case ENFILE: return errc::too_many_files;
    case EADDRINUSE:
    case EADDRNOTAVAIL: return errc::address_in_use;
    case EBADF:
    case EINVAL:
    case ENOTSOCK: return errc::invalid_argument;
    case ECANCELED: return errc::cancelled;
    case ENOSYS:
    case EOPNOTSUPP: return errc::unsupported;
    default: return errc::system_error;
  }
}

caf::error make_errno_error(const char* what, int err) {
  std::string text = what;
  text += ": ";
  text += std::strerror(err);
  return caf::make_error(errc_from_errno(err), std::move(text));
}

caf::error make_actio_error(errc code, std::string what) {
  return caf::make_error(code, std::move(what));
}

} // namespace actio
