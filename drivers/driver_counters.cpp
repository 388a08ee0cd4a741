#include "actio/drivers/driver_counters.hpp"

namespace actio {

namespace {

template <class Kind, size_t N>
const char* name_of(const std::array<const char*, N>& names, Kind k) noexcept {
  auto i = static_cast<size_t>(k);
  return i < N ? names[i] : "?";
}

} // namespace

const char* to_string(driver_request k) noexcept {
  return name_of(driver_request_names, k);
}

const char* to_string(driver_completion k) noexcept {
  return name_of(driver_completion_names, k);
}

const char* to_string(file_op_kind k) noexcept {
  return name_of(file_op_names, k);
}

} // namespace actio
