#include "client_codec.hpp"

#include <limits>

#include "actio/drivers/errc.hpp"
#include "actio/io/length_frames.hpp"
#include "text_protocol.hpp"

namespace chat {

namespace {

/// Events are at most a frame of text plus names: a bound for encoding,
/// not a limit clients see.
constexpr size_t max_event = 16 * 1024 * 1024;

} // namespace

client_codec::client_codec(size_t max_line, size_t max_frame)
  : lines_(max_line), out_lines_(max_event), frames_(max_frame) {
}

bool client_codec::set_mode(mode m) noexcept {
  if (mode_ != mode::unknown)
    return false;
  mode_ = m;
  told_ = true;
  return true;
}

actio::io::decoded<client_input>
client_codec::convert(actio::io::decoded<std::string> d) {
  actio::io::decoded<client_input> out;
  out.consumed = d.consumed;
  out.error = std::move(d.error);
  if (d.frame) {
    out.frame.emplace();
    out.frame->kind = client_input::line;
    out.frame->text = std::move(*d.frame);
  }
  return out;
}

actio::io::decoded<client_input>
client_codec::convert(actio::io::decoded<actio::proto::message<pb::Request>> d) {
  actio::io::decoded<client_input> out;
  out.consumed = d.consumed;
  out.error = std::move(d.error);
  if (d.frame) {
    out.frame.emplace();
    out.frame->kind = client_input::request;
    out.frame->req = std::move(*d.frame);
  }
  return out;
}

actio::io::decoded<client_input> client_codec::decode(const uint8_t* data,
                                                      size_t size) {
  if (mode_ == mode::unknown) {
    if (size == 0)
      return {};
    mode_ = data[0] == 0 ? mode::proto : mode::text;
  }
  if (!told_) { // the mode first, before anything it decodes
    told_ = true;
    actio::io::decoded<client_input> out;
    out.frame.emplace();
    return out;
  }
  if (mode_ == mode::text)
    return convert(lines_.decode(data, size));
  return convert(frames_.decode(data, size));
}

actio::io::decoded<client_input> client_codec::finish(const uint8_t* data,
                                                      size_t size) {
  if (mode_ == mode::unknown)
    return {};
  if (mode_ == mode::text)
    return convert(lines_.finish(data, size));
  auto out = convert(frames_.finish(data, size));
  if (out.error && !out.frame)
    out.error = actio::make_actio_error(actio::errc::truncated,
                                        "EOF inside a frame");
  return out;
}

caf::error client_codec::encode(const pb::Event& ev, actio::byte_buffer& out) {
  if (mode_ != mode::proto) // (unknown: a text client, as far as we know)
    return out_lines_.encode(render(ev), out);
  std::string bytes;
  if (!ev.SerializeToString(&bytes))
    return actio::make_actio_error(actio::errc::malformed,
                                   "cannot serialise an event");
  return actio::io::append_frame(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 bytes.size(), out, max_event);
}

caf::error client_codec::encode(const notice& n, actio::byte_buffer& out) {
  if (mode_ != mode::text)
    return caf::none;
  return out_lines_.encode(std::string{n.line}, out);
}

} // namespace chat
