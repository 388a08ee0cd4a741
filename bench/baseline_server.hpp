// The command line and listening socket shared by the echo benchmark's
// baseline servers (actio-epoll-echo, actio-uring-echo, actio-uv-echo), so
// that actio-echo-bench starts and reads all of them alike:
//
//   NAME [--host H] [--port P]
//     --host H   IPv4 address to bind (default 127.0.0.1)
//     --port P   TCP port (default 7001; 0 = let the OS choose)
//     --help / --version (exit 0); a usage error exits 2
//
// After it listens a server prints exactly one line to stdout and flushes:
//   NAME: listening on HOST:PORT
// (announce_listening below), which is what the bench waits for.
//
// Header-only: each baseline is one .cpp that links actio_cli and nothing of
// actio itself.

#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "actio/actors/cli/args.hpp"
#include "actio/actors/cli/tool.hpp"
#include "actio/actors/cli/values.hpp"

namespace baseline {

struct Options {
  std::string host = "127.0.0.1";
  int port = 7001;
};

inline Options parse_args(const actio::cli::tool& tool, int argc, char** argv) {
  auto help = [&tool] {
    std::exit(tool.print_help(
      actio::cli::option_line("--host=H", "IPv4 address to bind (default "
                                          "127.0.0.1)")
      + actio::cli::option_line("--port=P", "TCP port (default 7001; 0 = OS "
                                            "chooses)")));
  };
  Options opt;
  for (actio::cli::args a{tool, argc, argv}; a.next();) {
    a.exit_on_help_or_version(help);
    const std::string& arg = a.arg();
    if (arg == "--host") {
      opt.host = a.value();
    } else if (arg == "--port") {
      std::string v = a.value();
      auto port = actio::cli::parse_port(v);
      if (!port)
        std::exit(tool.bad_value(arg, v, actio::cli::port_expected));
      opt.port = *port;
    } else {
      a.reject();
    }
  }
  return opt;
}

// Allow as many connections as the hard limit permits.
inline void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// A listening TCP socket on opt.host:opt.port (SO_REUSEADDR, backlog
// SOMAXCONN, `type_flags` e.g. SOCK_NONBLOCK added to SOCK_STREAM); `bound`
// gets the address actually bound (the OS-chosen port). Exits 2 on a bad
// --host, 1 on a system error.
inline int make_listener(const actio::cli::tool& tool, const Options& opt,
                         int type_flags, sockaddr_in& bound) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(opt.port));
  if (inet_pton(AF_INET, opt.host.c_str(), &addr.sin_addr) != 1)
    std::exit(tool.bad_value("--host", opt.host, "an IPv4 address"));

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
  if (fd < 0) {
    perror("socket");
    std::exit(1);
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    perror("setsockopt(SO_REUSEADDR)");
    std::exit(1);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    perror("bind");
    std::exit(1);
  }
  if (listen(fd, SOMAXCONN) < 0) {
    perror("listen");
    std::exit(1);
  }
  socklen_t len = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) < 0) {
    perror("getsockname");
    std::exit(1);
  }
  return fd;
}

// "NAME: listening on HOST:PORT", flushed: the line the bench waits for.
inline void announce_listening(const actio::cli::tool& tool, const sockaddr_in& bound) {
  char host[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &bound.sin_addr, host, sizeof host);
  std::printf("%s: listening on %s:%u\n", tool.name().c_str(), host,
              unsigned{ntohs(bound.sin_port)});
  std::fflush(stdout);
}

} // namespace baseline
