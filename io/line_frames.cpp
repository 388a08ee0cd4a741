#include "actio/io/line_frames.hpp"

#include <cstring>

#include "actio/drivers/errc.hpp"

namespace actio::io {

caf::error line_frames::encode(const std::string& line, byte_buffer& out) const {
  if (line.size() > max_)
    return make_actio_error(errc::too_long,
                            "line of " + std::to_string(line.size())
                              + " bytes exceeds " + std::to_string(max_));
  if (std::memchr(line.data(), '\n', line.size()) != nullptr)
    return make_actio_error(errc::malformed, "line to send holds a newline");
  out.insert(out.end(), line.begin(), line.end());
  out.push_back('\n');
  return caf::none;
}

} // namespace actio::io
