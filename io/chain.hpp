#pragma once

/// `chain`: one source after another (Tokio's `AsyncReadExt::chain`).
///
/// The chain is a stage between the sources and `dest`: it starts the first
/// source with itself as destination, forwards its chunks, and starts the
/// next source only after the previous one's last chunk (whose `last` flag
/// it clears; only the final source's last chunk keeps it). Backpressure is
/// CAF's credit end to end: the chain grants its sources credit only as
/// `dest` grants it. An error from any source stops the chain with that
/// error (`dest` sees it; later sources never start); an error from `dest`
/// stops the running source.
///
/// Every source must end its stream with a `last` chunk (all actio sources
/// do); a source that closes without one ends the chain there.

#include <vector>

#include <caf/fwd.hpp>

#include "actio/io/source.hpp"

namespace actio::io {

/// All of `a`, then all of `b`. `sys` must outlive the recipe.
source chain(caf::actor_system& sys, source a, source b);

/// All of each source in turn (no sources: an empty stream).
source chain(caf::actor_system& sys, std::vector<source> sources);

} // namespace actio::io
