#include "web_gateway.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include <caf/event_based_actor.hpp>

#include "actio/drivers/completions.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/http/server.hpp"
#include "actio/http/websocket.hpp"
#include "actio/io/framed.hpp"
#include "actio/io/line_frames.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/tcp_listener.hpp"
#include "actio/net/unix_connect.hpp"
#include "actio/net/unix_listener.hpp"
#include "web_page.hpp"

namespace chat {

namespace {

using actio::http::ws_close;
using actio::http::ws_closed;
using actio::http::ws_message;
using actio::http::ws_opened;
using line_self = actio::io::framed_self<actio::io::line_frames>;

/// Longer than any chat line: the session, not the bridge, refuses a line
/// over --max-line, with the error an nc user gets.
constexpr size_t bridge_line_max = 1024 * 1024;

/// The session's side of the bridge: each line from the chat goes to the
/// browser as a text message, the next one only once that one was written.
caf::behavior session_side(line_self self, caf::actor ws) {
  auto conn = self.connection();
  return {
    [=](const actio::connected& c) {
      if (!c.reason) // speak first: a text client, welcomed at once
        self.send(std::string{});
    },
    [=](std::string& line) {
      self.pause();
      conn->request(ws, caf::infinite, ws_message{false, std::move(line)})
        .then([=]() { self.resume(); },
              [=](caf::error& err) { self.close(std::move(err)); });
    },
    [=](const actio::connection_closed&) {
      // The chat ended this client (quit, an error, shutdown): so ends
      // the WebSocket (a no-op if it is gone already).
      anon_send(ws, ws_close{1000, "closed by the chat"});
    },
  };
}

struct bridge_state {
  caf::actor ws;      ///< the WebSocket connection
  caf::actor session; ///< the stream connection to the chat
};

/// One browser: the WebSocket handler (actio/http/websocket.hpp).
caf::behavior bridge(caf::stateful_actor<bridge_state>* self,
                     actio::runtime* rt, std::string path) {
  return {
    [=](ws_opened& o) {
      self->state.ws = o.connection;
      auto ws = o.connection;
      actio::io::framed_options fo;
      auto conn = actio::net::unix_connect(
        *rt, path,
        actio::io::framed(actio::io::line_frames{bridge_line_max},
                          [ws](line_self s) { return session_side(s, ws); },
                          fo));
      if (!conn) {
        self->send(ws, ws_close{1011, "the chat is not available"});
        return;
      }
      self->state.session = *conn;
      self->link_to(*conn); // the session goes when the bridge goes
    },
    [=](ws_message& m) -> caf::result<void> {
      if (m.binary || !self->state.session)
        return caf::unit; // a text protocol: binary messages are ignored
      // The answer is the browser's read credit: given once the line was
      // written to the session.
      auto rp = self->make_response_promise();
      self
        ->request(self->state.session, caf::infinite,
                  actio::io::send_frame_atom::value,
                  browser_line(std::move(m.data)))
        .then([rp]() mutable { rp.deliver(caf::unit); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](ws_closed&) { self->quit(); },
  };
}

/// The HTTP side: the page at `/`, the WebSocket at `/ws`, else 404.
caf::behavior site(caf::event_based_actor* self, actio::runtime* rt,
                   std::string path) {
  return {
    [=](actio::http::request& req) -> actio::http::response {
      if (req.path == "/ws") {
        if (!req.upgrade)
          return actio::http::response::text(426, "a WebSocket endpoint\n");
        return actio::http::response::accept_websocket(
          self->spawn(bridge, rt, path));
      }
      if (req.path != "/" && req.path != "/index.html")
        return actio::http::response::text(404, "not found\n");
      if (req.method != "GET" && req.method != "HEAD")
        return actio::http::response::text(405, "GET only\n");
      return actio::http::response::text(200, chat_page,
                                         "text/html; charset=utf-8");
    },
  };
}

} // namespace

std::string browser_line(std::string text) {
  for (auto& c : text)
    if (c == '\r' || c == '\n')
      c = ' ';
  return text;
}

void web_gateway::stop() const {
  if (site)
    anon_send_exit(site, caf::exit_reason::user_shutdown);
  std::error_code ec;
  if (!dir.empty())
    std::filesystem::remove_all(dir, ec);
}

caf::expected<web_gateway>
start_web(actio::runtime& rt, const web_options& opts,
          actio::net::connection_factory session_factory,
          actio::net::connection_options session_conn) {
  web_gateway gw;
  auto tmp = std::filesystem::temp_directory_path().string()
             + "/actio-chat-web.XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) // mode 0700
    return actio::make_actio_error(actio::errc::permission_denied,
                                   "cannot make a directory under "
                                     + std::filesystem::temp_directory_path()
                                         .string());
  gw.dir = tmp;
  auto path = tmp + "/sessions";
  session_conn.tls.reset(); // inside the machine, in a private directory
  auto sessions = actio::net::unix_listen(rt, {path}, std::move(session_factory),
                                          std::move(session_conn));
  if (!sessions) {
    gw.stop();
    return sessions.error();
  }
  gw.sessions = *sessions;
  actio::http::server_options so;
  so.handler = gw.site = rt.system().spawn(site, &rt, path);
  auto http = actio::net::tcp_listen(rt, {opts.host, opts.port},
                                     actio::http::server(so), opts.conn);
  if (!http) {
    anon_send(gw.sessions.actor, actio::net::close_atom::value);
    gw.stop();
    return http.error();
  }
  gw.http = *http;
  gw.port = http->port;
  return gw;
}

} // namespace chat
