#pragma once
// Scraping a tool's `/metrics` in process tests: the tool started with
// `--metrics-port 0` (its ports read from its output), one `GET /metrics`
// per connection, and polling until the parsed samples say what a test
// waits for (bounded; no fixed sleeps). Shared by metrics_process_test.cpp
// and metrics_series_test.cpp.

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "http/http_client.hpp"
#include "support/net_client.hpp"
#include "support/prometheus.hpp"

namespace actio::test::metrics_scrape {

namespace prom = actio::test::prometheus;

/// The port after the last ':' of a "... listening on HOST:PORT" line.
inline uint16_t port_at_end(const std::string& line) {
  auto colon = line.rfind(':');
  if (colon == std::string::npos)
    return 0;
  return static_cast<uint16_t>(std::strtoul(line.c_str() + colon + 1, nullptr, 10));
}

/// A tool started with `args` and `--metrics-port 0`, its ports read from
/// its output: the service's listening line, the metrics line, and every
/// line before the metrics line (`lines`, e.g. a chat node's node port).
struct tool_process {
  child_process child;
  std::string service_line;
  std::vector<std::string> lines;
  uint16_t metrics_port = 0;

  tool_process(const std::string& bin, std::vector<std::string> args) {
    args.insert(args.end(), {"--metrics-port", "0"});
    child = spawn_process(bin, args);
    for (int i = 0; i < 10 && metrics_port == 0; ++i) {
      auto line = child.read_line(30s);
      if (line.empty())
        break;
      lines.push_back(line);
      if (line.find("metrics listening on ") != std::string::npos)
        metrics_port = port_at_end(line);
      else if (service_line.empty() && line.find("listening on ") != std::string::npos)
        service_line = line;
    }
  }
};

/// One `GET /metrics` on its own connection.
inline http_client::reply scrape(uint16_t port, const std::string& method = "GET",
                                 const std::string& path = "/metrics") {
  http_client::conn c{port};
  c.send(method + " " + path
         + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return c.read(method == "HEAD");
}

/// The last parse and its reply.
struct scraped {
  http_client::reply reply;
  prom::parse_result parsed;
};

/// Scrapes and parses until `ready` holds for the parse (or 30 s pass).
inline scraped scrape_until(uint16_t port,
                            const std::function<bool(const prom::parse_result&)>& ready) {
  scraped s;
  wait_until(
    [&] {
      s.reply = scrape(port);
      if (s.reply.status != 200)
        return false;
      s.parsed = prom::parse(s.reply.body);
      return s.parsed.ok && ready(s.parsed);
    },
    30s);
  return s;
}

} // namespace actio::test::metrics_scrape
