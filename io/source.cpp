#include "actio/io/source.hpp"

#include <memory>
#include <utility>

#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"

namespace actio::io {

source memory_source(caf::actor_system& sys, std::vector<byte_buffer> chunks) {
  auto data = std::make_shared<const std::vector<byte_buffer>>(std::move(chunks));
  return [&sys, data](caf::actor dest) {
    return spawn_memory_source(sys, *data, std::move(dest));
  };
}

source empty_source(caf::actor_system& sys) {
  return [&sys](caf::actor dest) {
    return spawn_empty_source(sys, std::move(dest));
  };
}

source repeat_source(caf::actor_system& sys, byte_buffer pattern,
                     uint64_t total, size_t chunk) {
  return [&sys, pattern = std::move(pattern), total, chunk](caf::actor dest) {
    return spawn_repeat_source(sys, pattern, total, std::move(dest), chunk);
  };
}

source file_source(caf::actor_system& sys, caf::actor files, std::string path,
                   size_t chunk) {
  return [&sys, files = std::move(files), path = std::move(path),
          chunk](caf::actor dest) {
    return spawn_file_source(sys, files, path, std::move(dest), chunk);
  };
}

sink discard(caf::actor_system& sys) {
  return [&sys](done_fn done) { return spawn_sink(sys, std::move(done)); };
}

} // namespace actio::io
