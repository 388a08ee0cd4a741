#pragma once

/// A protobuf message as a CAF-inspectable value: it can travel in CAF
/// messages and streams, and be serialised by CAF (which calls `inspect`).
/// Serialising writes the message's wire format (SerializeToString) as one
/// string; deserialising parses it back (ParseFromString). Bytes that do not
/// parse are an `errc::malformed` error, never a crash.

#include <string>
#include <utility>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include "actio/drivers/errc.hpp"

namespace actio::proto {

template <class Msg>
struct message {
  Msg value;

  message() = default;
  message(Msg x) : value(std::move(x)) {
  }

  Msg* operator->() noexcept {
    return &value;
  }
  const Msg* operator->() const noexcept {
    return &value;
  }
  Msg& operator*() noexcept {
    return value;
  }
  const Msg& operator*() const noexcept {
    return value;
  }
};

template <class Inspector, class Msg>
typename Inspector::result_type inspect(Inspector& f, message<Msg>& x) {
  if constexpr (Inspector::reads_state) {
    // Saving (or printing): the wire format.
    std::string buf;
    x.value.SerializeToString(&buf);
    return f(caf::meta::type_name("actio.proto.message"), buf);
  } else {
    std::string buf;
    if (auto err = f(caf::meta::type_name("actio.proto.message"), buf))
      return err;
    if (!x.value.ParseFromString(buf))
      return make_actio_error(errc::malformed,
                              "bytes do not parse as " + x.value.GetTypeName());
    return caf::none;
  }
}

} // namespace actio::proto
