#include "actio/net/resolver.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"

namespace actio::net {

namespace {

void resolver_actor(caf::event_based_actor* self, std::string host,
                    uint16_t port, caf::actor reply_to) {
  resolved result;
  if (auto targets = resolve_stream(host, port))
    result.targets = std::move(*targets);
  else
    result.error = std::move(targets.error());
  self->send(reply_to, std::move(result));
  // A function-based actor without behaviour ends here.
}

} // namespace

std::string host_port(const std::string& host, uint16_t port) {
  std::string result;
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  if (v6)
    result += '[';
  result += host;
  if (v6)
    result += ']';
  result += ':';
  result += std::to_string(port);
  return result;
}

std::optional<connect_target> numeric_target(const std::string& host,
                                             uint16_t port) {
  connect_target t;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    t.len = sizeof(sockaddr_in);
    return t;
  }
  auto literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    t.len = sizeof(sockaddr_in6);
    return t;
  }
  return std::nullopt;
}

caf::expected<std::vector<connect_target>>
resolve_stream(const std::string& host, uint16_t port) {
  if (auto t = numeric_target(host, port))
    return std::vector<connect_target>{*t};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides every address, "localhost" included, on a
  // host whose only interface is loopback. Unusable addresses fail fast
  // when tried and the next one is taken.
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    std::string text = "resolve ";
    text += host_port(host, port);
    text += ": ";
    text += rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    return make_actio_error(errc::resolve_failed, std::move(text));
  }
  std::vector<connect_target> targets;
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage))
      continue;
    connect_target t;
    std::memcpy(&t.addr, ai->ai_addr, ai->ai_addrlen);
    t.len = ai->ai_addrlen;
    targets.push_back(t);
  }
  freeaddrinfo(res);
  if (targets.empty())
    return make_actio_error(errc::resolve_failed,
                            "resolve " + host_port(host, port)
                              + ": no stream address");
  return targets;
}

void resolve_async(caf::actor_system& sys, std::string host, uint16_t port,
                   caf::actor reply_to) {
  sys.spawn<caf::detached>(resolver_actor, std::move(host), port,
                           std::move(reply_to));
}

} // namespace actio::net
