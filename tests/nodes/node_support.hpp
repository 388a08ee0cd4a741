#pragma once
// Helpers for node tests: worker / front-end processes of actio-echo and
// certificates from deploy/make-certs in a temporary directory.

#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/net_client.hpp"

namespace actio::test {

/// A temporary directory, removed with its contents.
struct temp_dir {
  std::filesystem::path path;
  temp_dir();
  ~temp_dir();
  std::string file(const std::string& name) const {
    return (path / name).string();
  }
};

/// Runs deploy/make-certs with `args`; true on exit status 0.
bool make_certs(const std::vector<std::string>& args);

/// An actio-echo worker node process and the port it published on (0 if
/// it did not say "listening on").
struct worker_node {
  child_process proc;
  uint16_t port = 0;
};

worker_node start_worker(const std::vector<std::string>& extra = {},
                         spawn_options opts = {});

/// Reads lines from `proc` until one contains `what` (true) or `timeout`.
bool read_until(child_process& proc, const std::string& what,
                clock::duration timeout = 30s);

/// Sends `text` and reads back exactly its size; the bytes read.
std::string round_trip(int fd, const std::string& text,
                       clock::duration timeout = 30s);

/// Reads exactly `n` bytes ("" on error/EOF/timeout).
std::string read_exact(int fd, size_t n, clock::duration timeout = 30s);

/// True if `status` is a normal exit (no signal, no core).
inline bool exited_normally(int status) {
  return status != -1 && WIFEXITED(status);
}

} // namespace actio::test
