// actio-epoll-chat — baseline chat server for the chat fan-out benchmark.
//
// A plain, single-threaded, level-triggered epoll server (no actio, no CAF)
// speaking the subset of actio-chat's text protocol that the load generator
// uses, with the same output lines:
//
//   /nick NAME  -> "* you are now known as NAME"   ("! nick_taken: ..." if
//                  taken; only outside a room, "! in_room: ..." otherwise)
//   /join ROOM  -> "* NAME joined #ROOM" to every member, the newcomer too
//                  (leaves the previous room first)
//   /leave      -> "* NAME left #ROOM" to the room and to the leaver
//   /quit       -> "* bye", then close
//   other text  -> "<NAME> text" to every member of the room, sender included
//   a line over 1024 bytes, or unsent output over --max-queue bytes: the
//   client is disconnected (as actio-chat does); a disconnect is announced
//   to the room as a leave.
//
// Output is written at once; what the kernel does not take waits in a
// per-client buffer (EPOLLOUT armed) while the client is still read.
//
// After it listens it prints one line and flushes:
//   actio-epoll-chat: listening on HOST:PORT
//
// Usage: actio-epoll-chat [--host H] [--port P] [--max-queue BYTES]
// Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime error, 2 on bad usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actio/actors/cli/tool.hpp"
#include "actio/actors/cli/values.hpp"

namespace {

constexpr const char* prog = "actio-epoll-chat";
constexpr size_t max_line = 1024;

struct options {
  std::string host = "127.0.0.1";
  long port = 7001;
  size_t max_queue = 64 * 1024 * 1024;
};

const actio::cli::tool tool{prog, "",
                            "A plain epoll chat server (text lines): the "
                            "baseline of actio-chat-bench."};

options parse_args(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h")
      std::exit(tool.print_help(
        actio::cli::option_line("--host=H", "IPv4 address (default 127.0.0.1)")
        + actio::cli::option_line("--port=P", "port, 0 = any (default 7001)")
        + actio::cli::option_line("--max-queue=BYTES",
                                  "unsent bytes per client before it is")
        + actio::cli::option_line("", "disconnected (default 67108864)")));
    if (arg == "--version")
      std::exit(tool.print_version());
    if (arg.empty() || arg[0] != '-')
      std::exit(tool.usage_error("extra operand '" + arg + "'"));
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    if (name != "--host" && name != "--port" && name != "--max-queue")
      std::exit(tool.unrecognized_option(arg));
    if (eq != std::string::npos)
      value = arg.substr(eq + 1);
    else if (i + 1 < argc)
      value = argv[++i];
    else
      std::exit(tool.missing_argument(name));
    if (name == "--host") {
      opt.host = value;
    } else if (name == "--port") {
      auto port = actio::cli::parse_port(value);
      if (!port)
        std::exit(tool.bad_value(name, value, actio::cli::port_expected));
      opt.port = *port;
    } else {
      auto n = actio::cli::parse_integer(value, 1, LLONG_MAX);
      if (!n)
        std::exit(tool.bad_value(name, value,
                                 actio::cli::integer_range(1, LLONG_MAX)));
      opt.max_queue = static_cast<size_t>(*n);
    }
  }
  return opt;
}

struct client {
  bool open = false;
  std::string nick, room, in, out;
  size_t out_off = 0;
  bool want_out = false;
};

class server {
public:
  server(int epfd, int listen_fd, size_t max_queue)
    : epfd_(epfd), listen_fd_(listen_fd), max_queue_(max_queue) {
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          perror("accept4"); // e.g. EMFILE: retry on the next event
        return;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (static_cast<size_t>(fd) >= clients_.size())
        clients_.resize(static_cast<size_t>(fd) + 1);
      clients_[fd] = client{};
      clients_[fd].open = true;
      ctl(EPOLL_CTL_ADD, fd, EPOLLIN);
    }
  }

  void on_ready(int fd, uint32_t events) {
    if (static_cast<size_t>(fd) >= clients_.size() || !clients_[fd].open)
      return;
    if (events & EPOLLOUT)
      flush(fd);
    if (clients_[fd].open && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
      read_lines(fd);
  }

private:
  void ctl(int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, op, fd, &ev) < 0)
      perror("epoll_ctl");
  }

  void read_lines(int fd) {
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      drop(fd);
      return;
    }
    if (n < 0)
      return;
    auto& c = clients_[fd];
    c.in.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      auto nl = c.in.find('\n', start);
      if (nl == std::string::npos)
        break;
      std::string_view line{c.in.data() + start, nl - start};
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      start = nl + 1;
      if (!handle(fd, std::string{line}))
        return; // closed
    }
    c.in.erase(0, start);
    if (c.in.size() > max_line) {
      send_to(fd, "! line_too_long: line too long\n");
      drop(fd);
    }
  }

  // False if `fd` was closed.
  bool handle(int fd, const std::string& line) {
    auto& c = clients_[fd];
    if (line.size() > max_line) {
      send_to(fd, "! line_too_long: line too long\n");
      drop(fd);
      return false;
    }
    if (line.empty())
      return true;
    if (line[0] != '/' || (line.size() > 1 && line[1] == '/')) {
      if (c.room.empty())
        return send_to(fd, "! not_in_room: join a room first\n");
      std::string msg = "<";
      msg.append(c.nick).append("> ").append(line, line[0] == '/' ? 1 : 0)
        .append("\n");
      broadcast(c.room, msg);
      return clients_[fd].open;
    }
    auto sp = line.find(' ');
    std::string cmd = line.substr(0, sp);
    std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (cmd == "/nick") {
      if (!c.room.empty())
        return send_to(fd, "! in_room: leave the room first\n");
      if (arg.empty() || arg.size() > 32 || nicks_.count(arg))
        return send_to(fd, "! nick_taken: " + arg + " is taken\n");
      nicks_.erase(c.nick);
      c.nick = arg;
      nicks_.insert(arg);
      return send_to(fd, "* you are now known as " + arg + "\n");
    }
    if (cmd == "/join") {
      if (!arg.empty() && arg[0] == '#')
        arg.erase(0, 1);
      if (c.nick.empty())
        return send_to(fd, "! no_nick: choose a nick first\n");
      if (arg.empty() || arg.size() > 32)
        return send_to(fd, "! bad_name: bad room name\n");
      leave(fd);
      clients_[fd].room = arg;
      rooms_[arg].push_back(fd);
      broadcast(arg, "* " + clients_[fd].nick + " joined #" + arg + "\n");
      return clients_[fd].open;
    }
    if (cmd == "/leave") {
      if (c.room.empty())
        return send_to(fd, "! not_in_room: not in a room\n");
      auto note = "* " + c.nick + " left #" + c.room + "\n";
      leave(fd);
      return send_to(fd, note);
    }
    if (cmd == "/quit") {
      send_to(fd, "* bye\n");
      drop(fd);
      return false;
    }
    return send_to(fd, "! unknown_command: " + cmd + "\n");
  }

  // Removes `fd` from its room and tells the others.
  void leave(int fd) {
    auto& c = clients_[fd];
    if (c.room.empty())
      return;
    auto room = std::move(c.room);
    c.room.clear();
    auto& members = rooms_[room];
    members.erase(std::find(members.begin(), members.end(), fd));
    if (members.empty())
      rooms_.erase(room);
    else
      broadcast(room, "* " + c.nick + " left #" + room + "\n");
  }

  void broadcast(const std::string& room, const std::string& msg) {
    auto it = rooms_.find(room);
    if (it == rooms_.end())
      return;
    // A copy: a member dropped for its queue leaves the room (and the list).
    auto members = it->second;
    for (int fd : members)
      if (clients_[fd].open)
        send_to(fd, msg);
  }

  // Queues `msg` and writes what the kernel takes; false if `fd` was
  // dropped (its unsent output grew over --max-queue).
  bool send_to(int fd, const std::string& msg) {
    auto& c = clients_[fd];
    c.out.append(msg);
    if (!c.want_out && !flush(fd))
      return false;
    if (c.out.size() - c.out_off > max_queue_) {
      drop(fd);
      return false;
    }
    return true;
  }

  // Writes pending output; false if `fd` was dropped.
  bool flush(int fd) {
    auto& c = clients_[fd];
    while (c.out_off < c.out.size()) {
      ssize_t w = send(fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                       MSG_NOSIGNAL);
      if (w > 0) {
        c.out_off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_out) {
          c.want_out = true;
          ctl(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLOUT);
        }
        return true;
      } else {
        drop(fd);
        return false;
      }
    }
    c.out.clear();
    c.out_off = 0;
    if (c.want_out) {
      c.want_out = false;
      ctl(EPOLL_CTL_MOD, fd, EPOLLIN);
    }
    return true;
  }

  void drop(int fd) {
    auto& c = clients_[fd];
    if (!c.open)
      return;
    c.open = false;
    close(fd); // also leaves the epoll set
    nicks_.erase(c.nick);
    leave(fd);
    c = client{};
  }

  int epfd_;
  int listen_fd_;
  size_t max_queue_;
  std::vector<client> clients_;
  std::unordered_map<std::string, std::vector<int>> rooms_;
  std::unordered_set<std::string> nicks_;
};

} // namespace

int main(int argc, char** argv) {
  auto opt = parse_args(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(opt.port));
  if (inet_pton(AF_INET, opt.host.c_str(), &addr.sin_addr) != 1)
    return tool.bad_value("--host", opt.host, "an IPv4 address");
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (sig_fd < 0 || lfd < 0
      || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0
      || listen(lfd, SOMAXCONN) < 0
      || getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    perror(prog);
    return 1;
  }
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  for (int fd : {lfd, sig_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }
  std::printf("%s: listening on %s:%u\n", prog, opt.host.c_str(),
              unsigned{ntohs(addr.sin_port)});
  std::fflush(stdout);

  server srv{epfd, lfd, opt.max_queue};
  epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == sig_fd)
        return 0;
      if (fd == lfd)
        srv.accept_all();
      else
        srv.on_ready(fd, events[i].events);
    }
  }
}
