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
/// | actio.io.malloc-retain   | 64 MiB  | freed bytes glibc keeps (malloc_tuning.hpp) |
/// | actio.log.level          | info    | trace, debug, info, warn, error, off   |
/// | actio.log.file           | stderr  | append log lines to this file          |
/// | actio.log.format         | text    | text, or json (one object per line)    |
///
/// One CAF setting differs from CAF's default:
/// `work-stealing.moderate-poll-attempts` is 0 (CAF: 500), so an idle
/// scheduler worker goes from polling straight to waiting on a condition
/// variable that an enqueue signals, instead of sleeping 50 us at a time
/// (a node round trip with one request in flight: ~100 us instead of
/// ~270 us). `--work-stealing.moderate-poll-attempts=500` restores CAF's.
///
/// Both `parse_args` apply the `actio.log.*` options to `actio::log`
/// (actio/drivers/log.hpp); after CAF's own `parse`, call `apply_log_options`.
///
/// Derive from it to add your own options (`opt_group{custom_options_, ...}`).

#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include "actio/actors/cli/tool.hpp"

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

  /// `parse_args` by the conventions of every `actio-*` tool
  /// (`actio/actors/cli/tool.hpp`): `--help` and `--version` print to stdout; an
  /// unknown option, a missing or bad value prints one line naming the
  /// option and what it expects ("--port: 'abc' is not a port number
  /// (0-65535)") and the "Try" line. Also `-p VALUE`, `-pVALUE` and `--`.
  /// @returns the status to exit with now (0 after `--help`, 2 after a
  ///          usage error), or nothing to run the program
  std::optional<int> parse_args(const cli::tool& tool, int argc, char** argv);

  /// The same, then checks the positional arguments against `operands`
  /// (`cli::tool::check_operands`; `{}`: none allowed).
  std::optional<int> parse_args(const cli::tool& tool, int argc, char** argv,
                                const std::vector<std::string>& operands);

  /// Configures `actio::log` from the options actio.log.level,
  /// actio.log.file and actio.log.format (those not given keep their
  /// defaults). @returns an error text naming the option, empty on
  /// success
  std::string apply_log_options() const;

  /// The options for `--help`: the flat options and those of the `actio`
  /// category, one `cli::option_line` each.
  std::string options_help() const;
};

} // namespace actio
