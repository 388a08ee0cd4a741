#pragma once

/// Actor-system configuration with Actio's options. Every option can be set
/// on the command line (`--actio.io.backend=epoll`) or in CAF's config file
/// (`caf-application.ini`, section `[actio.io]`).
///
/// | option                   | default | meaning                                |
/// |--------------------------|---------|----------------------------------------|
/// | actio.io.backend         | auto    | auto, or a backend name (epoll)        |
/// | actio.io.drivers         | 1       | driver threads                         |
/// | actio.io.max-throughput  | 64      | messages per pinned actor and turn     |
///
/// Derive from it to add your own options (`opt_group{custom_options_, ...}`).

#include <caf/actor_system_config.hpp>

namespace actio {

class config : public caf::actor_system_config {
public:
  config();

  /// Like `parse(argc, argv)`, but also accepts the common `--name value`
  /// spelling (CAF 0.17 only takes `--name=value`) for every option that
  /// takes a value, e.g. `actio-echo --port 7000`, and options after
  /// positional arguments (`actio-copy SRC DST --depth 4`); positional
  /// arguments end up in `remainder`.
  caf::error parse_args(int argc, char** argv);
};

} // namespace actio
