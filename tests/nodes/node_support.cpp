#include "nodes/node_support.hpp"

#include <unistd.h>

#include <atomic>

namespace actio::test {

temp_dir::temp_dir() {
  static std::atomic<int> n{0};
  path = std::filesystem::temp_directory_path()
         / ("actio-node-test-" + std::to_string(::getpid()) + "-"
            + std::to_string(n++));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool make_certs(const std::vector<std::string>& args) {
  auto child = spawn_process(ACTIO_MAKE_CERTS, args);
  if (child.pid <= 0)
    return false;
  child.read_all(60s);
  auto status = child.stop(0, 60s);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

worker_node start_worker(const std::vector<std::string>& extra,
                         spawn_options opts) {
  std::vector<std::string> args{"--worker", "--node-port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  worker_node w;
  w.proc = spawn_process(ACTIO_ECHO_BIN, args, opts);
  w.port = parse_port(w.proc.read_line(30s));
  return w;
}

bool read_until(child_process& proc, const std::string& what,
                clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    auto left = std::chrono::duration_cast<clock::duration>(deadline
                                                            - clock::now());
    auto line = proc.read_line(left);
    if (line.find(what) != std::string::npos)
      return true;
    if (line.empty())
      return false; // EOF or timeout
  }
  return false;
}

std::string read_exact(int fd, size_t n, clock::duration timeout) {
  std::string back(n, '\0');
  if (n > 0
      && !recv_exact(fd, reinterpret_cast<uint8_t*>(back.data()), n, timeout))
    return {};
  return back;
}

std::string round_trip(int fd, const std::string& text,
                       clock::duration timeout) {
  if (!send_all(fd, reinterpret_cast<const uint8_t*>(text.data()),
                text.size(), timeout))
    return {};
  return read_exact(fd, text.size(), timeout);
}

} // namespace actio::test
