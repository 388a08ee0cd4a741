// actio-chat-client: a terminal client for actio-chat's protobuf mode.
//
// Run:   build/bin/actio-chat-client --port 7001 --nick bob [--room lobby]
//        [--host 127.0.0.1]
// Then type: text (said to the room), /join ROOM, /leave, /nick NAME, /list,
// /help, /quit (case-insensitive). Events print as lines, the way text-mode
// clients see them
// ("<alice> hi", "* bob joined #lobby", "! nick_taken: ...").
// Non-interactive: stdin from a pipe works the same; at its end the client
// sends Quit and exits once the server has said bye and closed (exit 0;
// 1 when the connection fails or the server closes with an error first).
//
// A plain blocking client (poll on stdin and the socket): one connection,
// nothing to schedule, so it needs no actor runtime.

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>

#include "../chat/clean_text.hpp"
#include "../chat/text_protocol.hpp"
#include "actio/actors/config.hpp"

namespace {

namespace pb = actio::proto::chat;

struct client_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 7001;
  std::string nick;
  std::string room;
  client_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "server address or name (default 127.0.0.1)")
      .add(port, "port,p", "server port (default 7001)")
      .add(nick, "nick", "nickname to take first (required)")
      .add(room, "room", "room to join after the nick (default: none)");
  }
};

int connect_to(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res)
      != 0)
    return -1;
  int fd = -1;
  for (auto* a = res; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0)
      continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0)
      break;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool send_request(int fd, const pb::Request& req) {
  std::string payload;
  req.SerializeToString(&payload);
  auto n = static_cast<uint32_t>(payload.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  frame.append(payload);
  return send_all(fd, frame);
}

} // namespace

int main(int argc, char** argv) {
  actio::cli::tool tool{"actio-chat-client", "",
                        "Chat with an actio-chat server over protobuf frames: "
                        "lines from stdin are sent, messages printed."};
  client_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (cfg.nick.empty())
    return tool.usage_error("option '--nick' is required");
  int fd = connect_to(cfg.host, cfg.port);
  if (fd < 0) {
    std::cerr << "actio-chat-client: cannot connect to " << cfg.host << ':'
              << cfg.port << '\n';
    return 1;
  }
  pb::Request req;
  req.mutable_nick()->set_nick(cfg.nick);
  bool ok = send_request(fd, req);
  if (ok && !cfg.room.empty()) {
    req.Clear();
    req.mutable_join()->set_room(cfg.room);
    ok = send_request(fd, req);
  }
  std::string in_buf;  // stdin bytes not yet a line
  std::string net_buf; // socket bytes not yet a frame
  bool stdin_open = true;
  bool bye = false;
  bool failed = !ok;
  while (!failed) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (::poll(fds, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      char buf[4096];
      auto n = ::read(STDIN_FILENO, buf, sizeof(buf));
      if (n <= 0) {
        stdin_open = false;
        if (!in_buf.empty())
          in_buf.push_back('\n');
        in_buf.append("/quit\n");
      } else {
        in_buf.append(buf, static_cast<size_t>(n));
      }
      size_t nl;
      while ((nl = in_buf.find('\n')) != std::string::npos) {
        auto line = in_buf.substr(0, nl);
        in_buf.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        // The server's rule for text, here too: a request with invalid
        // UTF-8 would not parse there.
        auto r = chat::parse_text_line(chat::clean_text(line));
        if (r.kind == chat::parsed_line::empty)
          continue;
        if (r.kind == chat::parsed_line::help) {
          for (auto h : chat::help_lines)
            std::cout << h << '\n';
          std::cout.flush();
          continue;
        }
        if (r.kind == chat::parsed_line::unknown) {
          std::cout << "! unknown_command: " << chat::unknown_command_text
                    << std::endl;
          continue;
        }
        if (!send_request(fd, r.req)) {
          failed = true;
          break;
        }
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[65536];
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; // the server closed
      net_buf.append(buf, static_cast<size_t>(n));
      while (net_buf.size() >= 4) {
        auto b = reinterpret_cast<const uint8_t*>(net_buf.data());
        size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16)
                     | (size_t{b[2]} << 8) | size_t{b[3]};
        if (net_buf.size() < 4 + len)
          break;
        pb::Event ev;
        if (!ev.ParseFromArray(net_buf.data() + 4, static_cast<int>(len))) {
          std::cerr << "actio-chat-client: malformed event from the server\n";
          failed = true;
          break;
        }
        net_buf.erase(0, 4 + len);
        std::cout << chat::render(ev) << std::endl;
        if (ev.has_bye())
          bye = true;
      }
    }
  }
  ::close(fd);
  return bye && !failed ? 0 : 1;
}
