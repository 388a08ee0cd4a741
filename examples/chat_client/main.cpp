// actio-chat-client: a terminal client for actio-chat's protobuf mode.
//
// Run:   build/bin/actio-chat-client --port 7001 --nick bob [--room lobby]
//        [--host 127.0.0.1]
//        TLS: --tls [--tls-ca ca.pem] [--tls-server-name localhost]
//             [--tls-cert client.pem --tls-key client.key]
//        (against actio-chat --tls-cert server.pem --tls-key server.key)
// Then type: text (said to the room), /join ROOM, /leave, /nick NAME, /list,
// /help, /quit (case-insensitive). Events print as lines, the way text-mode
// clients see them
// ("<alice> hi", "* bob joined #lobby", "! nick_taken: ...").
// Non-interactive: stdin from a pipe works the same; at its end the client
// sends Quit and exits once the server has said bye and closed (exit 0;
// 1, with one line on stderr saying why, when the connection or the TLS
// handshake fails or the server closes first).
//
// A plain blocking client (poll on stdin and the socket): one connection,
// nothing to schedule, so it needs no actor runtime. TLS is OpenSSL on the
// socket (link.hpp); the options and the context (CAs, client certificate,
// TLS 1.2+) are the ones every Actio program shares (net/tls_options.hpp).

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "../chat/clean_text.hpp"
#include "../chat/text_protocol.hpp"
#include "actio/actors/config.hpp"
#include "actio/net/tls_options.hpp"
#include "link.hpp"

namespace {

namespace pb = actio::proto::chat;

struct client_config : actio::config {
  std::string host = "127.0.0.1";
  uint16_t port = 7001;
  std::string nick;
  std::string room;
  actio::net::tls_options tls;
  client_config() {
    opt_group{custom_options_, "global"}
      .add(host, "host", "server address or name (default 127.0.0.1)")
      .add(port, "port,p", "server port (default 7001)")
      .add(nick, "nick", "nickname to take first (required)")
      .add(room, "room", "room to join after the nick (default: none)");
    tls.add_client_options(custom_options_);
  }
};

/// The server's frames are at most 16 MiB (its --max-frame limit).
constexpr size_t max_event = 16 * 1024 * 1024;

constexpr std::chrono::seconds handshake_timeout{10};

bool send_request(chat::link& conn, const pb::Request& req) {
  std::string payload;
  req.SerializeToString(&payload);
  auto n = static_cast<uint32_t>(payload.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  frame.append(payload);
  return conn.send(frame);
}

/// True if `bytes` start like a TLS record (an alert or a handshake): what
/// a plain client reads from a TLS port.
bool looks_like_tls(const std::string& bytes) {
  return bytes.size() >= 2 && (bytes[0] == 0x15 || bytes[0] == 0x16)
         && bytes[1] == 0x03;
}

/// Prints the events complete in `buf` and removes them. @returns an error
/// text when `buf` holds no valid event stream; sets `bye`
std::string print_events(std::string& buf, bool& bye) {
  while (buf.size() >= 4) {
    auto b = reinterpret_cast<const uint8_t*>(buf.data());
    size_t len = (size_t{b[0]} << 24) | (size_t{b[1]} << 16)
                 | (size_t{b[2]} << 8) | size_t{b[3]};
    if (len > max_event)
      return looks_like_tls(buf) ? "the server speaks TLS (try --tls)"
                                 : "malformed event from the server";
    if (buf.size() < 4 + len)
      break;
    pb::Event ev;
    if (!ev.ParseFromArray(buf.data() + 4, static_cast<int>(len)))
      return "malformed event from the server";
    buf.erase(0, 4 + len);
    std::cout << chat::render(ev) << std::endl;
    if (ev.has_bye())
      bye = true;
  }
  return {};
}

/// Sends the complete lines of `in_buf` (removing them) as requests; /help
/// and unknown commands are answered here. @returns false if a send failed
bool send_lines(std::string& in_buf, chat::link& conn) {
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
    if (!send_request(conn, r.req))
      return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  actio::cli::tool tool{"actio-chat-client", "",
                        "Chat with an actio-chat server over protobuf frames "
                        "(TLS with --tls): lines from stdin are sent, "
                        "messages printed."};
  client_config cfg;
  if (auto status = cfg.parse_args(tool, argc, argv, {}))
    return *status;
  if (cfg.nick.empty())
    return tool.usage_error("option '--nick' is required");
  actio::net::connection_options co; // loads the TLS files now, if any
  if (auto status = cfg.tls.apply_client(tool, co))
    return *status;
  ::signal(SIGPIPE, SIG_IGN); // OpenSSL writes with write(2)
  chat::link conn{cfg.host, cfg.port};
  if (conn.ok() && co.tls) {
    auto name = cfg.tls.server_name.empty() ? cfg.host : cfg.tls.server_name;
    conn.start_tls(co.tls->native_handle(), name, handshake_timeout);
  }
  if (!conn.ok())
    return tool.fail(conn.error());
  pb::Request req;
  req.mutable_nick()->set_nick(cfg.nick);
  bool ok = send_request(conn, req);
  if (ok && !cfg.room.empty()) {
    req.Clear();
    req.mutable_join()->set_room(cfg.room);
    ok = send_request(conn, req);
  }
  std::string in_buf;  // stdin bytes not yet a line
  std::string net_buf; // socket bytes not yet a frame
  std::string error;   // why the conversation ended early
  bool stdin_open = true;
  bool bye = false;
  while (ok) {
    pollfd fds[2] = {{conn.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    // Bytes OpenSSL decrypted already: poll would not see them.
    if (::poll(fds, stdin_open ? 2 : 1, conn.buffered() ? 0 : -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (conn.buffered())
      fds[0].revents |= POLLIN;
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
      ok = send_lines(in_buf, conn);
    }
    if (ok && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[65536];
      auto n = conn.recv(buf, sizeof(buf));
      if (n == chat::link::nothing_yet)
        continue;
      if (n <= 0)
        break; // the server closed, or an error (conn.error())
      net_buf.append(buf, static_cast<size_t>(n));
      error = print_events(net_buf, bye);
      ok = error.empty();
    }
  }
  if (!conn.error().empty())
    return tool.fail(conn.error());
  if (!error.empty())
    return tool.fail(error);
  if (!bye)
    return tool.fail(looks_like_tls(net_buf)
                       ? "the server speaks TLS (try --tls)"
                       : "the server closed the connection");
  return 0;
}
