#pragma once

/// `copy`: all of a source into a sink (Tokio's `io::copy`), reporting the
/// bytes the sink took. Backpressure is the stream's credit: a slow sink
/// slows the source, memory stays bounded by what the sink grants.

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "actio/io/source.hpp"

namespace actio::io {

/// Starts `src` streaming into a sink made by `dst`; `done(bytes, error)`
/// is called exactly once (by the sink) when the copy ended: `bytes` is
/// what the sink took (for a file sink: wrote), `error` the first error of
/// the source, a stage or the sink (empty when everything arrived).
/// Returns the sink actor.
caf::actor copy(source src, sink dst, done_fn done);

/// The request form: an actor answering one `(copy_atom)` request per copy
/// with the byte count, or the copy's error. Each request starts a copy.
using copy_atom = caf::atom_constant<caf::atom("copy")>;
caf::actor spawn_copier(caf::actor_system& sys, source src, sink dst);

} // namespace actio::io
