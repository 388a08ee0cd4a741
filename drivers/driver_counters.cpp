#include "actio/drivers/driver_counters.hpp"

namespace actio {

const char* to_string(driver_request k) noexcept {
  switch (k) {
    case driver_request::accept:
      return "accept";
    case driver_request::connect:
      return "connect";
    case driver_request::read:
      return "read";
    case driver_request::write:
      return "write";
    case driver_request::shutdown:
      return "shutdown";
    case driver_request::send_to:
      return "send_to";
    case driver_request::timer:
      return "timer";
    case driver_request::close:
      return "close";
  }
  return "?";
}

const char* to_string(driver_completion k) noexcept {
  switch (k) {
    case driver_completion::accept:
      return "accept";
    case driver_completion::read:
      return "read";
    case driver_completion::write:
      return "write";
    case driver_completion::recv_from:
      return "recv_from";
    case driver_completion::send_to:
      return "send_to";
  }
  return "?";
}

} // namespace actio
