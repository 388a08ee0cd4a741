#pragma once

/// The TLS command-line options every Actio server (and client) program
/// shares, so that `actio-echo`, `actio-chat` and `actio-kv` spell and check
/// them alike:
///
///     --tls-cert FILE       certificate chain (PEM); turns TLS on
///     --tls-key FILE        its private key (PEM)
///     --tls-client-ca FILE  require client certificates from this CA
///
/// and, for clients, `--tls`, `--tls-ca FILE`, `--tls-server-name NAME`.
///
/// ```
/// struct my_config : actio::config {
///   actio::net::tls_options tls;
///   my_config() { tls.add_server_options(custom_options_); }
/// };
/// ...
/// actio::net::connection_options conn;
/// if (auto status = cfg.tls.apply_server(tool, conn)) // loads the files now
///   return *status;                                   // 2: misuse, 1: bad file
/// ```

#include <optional>
#include <string>

#include <caf/config_option_set.hpp>
#include <caf/expected.hpp>

#include "actio/actors/cli/tool.hpp"
#include "actio/net/connection.hpp"
#include "actio/net/tls_context.hpp"

namespace actio::net {

struct tls_options {
  std::string cert;        ///< --tls-cert
  std::string key;         ///< --tls-key
  std::string client_ca;   ///< --tls-client-ca (servers)
  bool enable = false;     ///< --tls (clients)
  std::string ca;          ///< --tls-ca (clients)
  std::string server_name; ///< --tls-server-name (clients)

  /// Adds --tls-cert, --tls-key, --tls-client-ca.
  void add_server_options(caf::config_option_set& opts);

  /// Adds --tls, --tls-ca, --tls-server-name, --tls-cert, --tls-key (a
  /// client certificate).
  void add_client_options(caf::config_option_set& opts);

  /// The server context the options ask for, loaded now; nullopt when
  /// --tls-cert is not given. @returns `errc::invalid_argument` for a
  /// misuse (a key without a certificate) and `errc::tls_bad_config`, naming
  /// the file, when a file does not load
  caf::expected<std::optional<tls_context>> server_context() const;

  /// The client context (--tls or any --tls-* option turns it on).
  caf::expected<std::optional<tls_context>> client_context() const;

  /// Sets `opts.tls` from `server_context()`. On error prints it the
  /// tool's way. @returns the exit status on error (2 for a misuse, 1 for a
  /// file that does not load), nothing on success
  std::optional<int> apply_server(const cli::tool& tool,
                                  connection_options& opts) const;

  /// Sets `opts.tls` from `client_context()`, like `apply_server`.
  std::optional<int> apply_client(const cli::tool& tool,
                                  connection_options& opts) const;
};

} // namespace actio::net
