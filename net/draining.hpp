#pragma once

/// The event a connection's behaviour gets when it is asked to drain
/// (`(drain_atom, deadline)`, usually from its listener's graceful shutdown).

#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

namespace actio {

/// Finish up: complete what is in flight, then shut down the write side or
/// close. At `deadline` (from when the event was sent) the connection is
/// closed with `errc::shutting_down`, finished or not.
struct draining {
  caf::timespan deadline{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, draining& x) {
  return f(caf::meta::type_name("actio.draining"), x.deadline);
}

} // namespace actio
