#include "actio/drivers/errc.hpp"

#include <cerrno>
#include <cstring>

#include <caf/atom.hpp>
#include <caf/message.hpp>

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
    case errc::not_found: return "not_found";
    case errc::permission_denied: return "permission_denied";
    case errc::is_directory: return "is_directory";
    case errc::no_space: return "no_space";
    case errc::file_too_large: return "file_too_large";
    case errc::too_long: return "too_long";
    case errc::malformed: return "malformed";
    case errc::unreachable: return "unreachable";
    case errc::resolve_failed: return "resolve_failed";
    case errc::idle_timeout: return "idle_timeout";
    case errc::read_timeout: return "read_timeout";
    case errc::write_timeout: return "write_timeout";
    case errc::connection_limit: return "connection_limit";
    case errc::truncated: return "truncated";
    case errc::too_many_requests: return "too_many_requests";
    case errc::address_not_available: return "address_not_available";
    case errc::actor_failed: return "actor_failed";
    case errc::restarted: return "restarted";
    case errc::restart_limit: return "restart_limit";
    case errc::tls_handshake_failed: return "tls_handshake_failed";
    case errc::tls_handshake_timeout: return "tls_handshake_timeout";
    case errc::tls_verify_failed: return "tls_verify_failed";
    case errc::tls_error: return "tls_error";
    case errc::tls_bad_config: return "tls_bad_config";
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
    case EHOSTUNREACH:
    case ENETUNREACH: return errc::unreachable;
    case ETIMEDOUT: return errc::timed_out;
    case EMFILE:
    case ENFILE: return errc::too_many_files;
    case EADDRINUSE: return errc::address_in_use;
    case EADDRNOTAVAIL: return errc::address_not_available;
    case EBADF:
    case EINVAL:
    case ENOTSOCK: return errc::invalid_argument;
    case ECANCELED: return errc::cancelled;
    case ENOSYS:
    case EOPNOTSUPP: return errc::unsupported;
    case ENOENT: return errc::not_found;
    case EACCES:
    case EPERM:
    case EROFS: return errc::permission_denied;
    case EISDIR: return errc::is_directory;
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case EFBIG: return errc::file_too_large;
    default: return errc::system_error;
  }
}

caf::error make_errno_error(const char* what, int err) {
  std::string text = what;
  text += ": ";
  text += std::strerror(err);
  return caf::make_error(errc_from_errno(err), std::move(text));
}

caf::error make_path_error(const char* what, const std::string& path,
                           int err) {
  std::string text = what;
  text += ' ';
  text += path;
  text += ": ";
  text += std::strerror(err);
  return caf::make_error(errc_from_errno(err), std::move(text));
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == caf::atom("actio")) {
    std::string result = to_string(static_cast<errc>(err.code()));
    if (err.context().match_elements<std::string>()) {
      result += " (";
      result += err.context().get_as<std::string>(0);
      result += ")";
    }
    return result;
  }
  return caf::to_string(err);
}

caf::error make_actio_error(errc code, std::string what) {
  return caf::make_error(code, std::move(what));
}

} // namespace actio
