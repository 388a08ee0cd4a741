#include "nodes/chat_nodes.hpp"

#include <regex>

namespace actio::test {

chat_node start_chat_node(const std::vector<std::string>& extra,
                          uint16_t node_port) {
  std::vector<std::string> args{"--port", "0", "--rate=0", "--node-port",
                                std::to_string(node_port)};
  args.insert(args.end(), extra.begin(), extra.end());
  chat_node n;
  n.proc = spawn_process(ACTIO_CHAT_BIN, args);
  n.port = parse_port(n.proc.read_line(30s));
  if (n.port == 0)
    return n;
  auto line = n.proc.read_line(30s);
  const std::string prefix = "actio-chat: node port ";
  if (line.rfind(prefix, 0) == 0)
    n.node_port = static_cast<uint16_t>(std::stoul(line.substr(prefix.size())));
  else
    n.port = 0;
  return n;
}

std::string peer_list(const std::vector<uint16_t>& node_ports) {
  std::string out;
  for (auto p : node_ports) {
    if (!out.empty())
      out.push_back(',');
    out.append("127.0.0.1:").append(std::to_string(p));
  }
  return out;
}

chat_member join_chat(uint16_t port, const std::string& nick,
                      const std::string& room) {
  chat_member m{nick, room, std::make_unique<chat_peer>(port)};
  auto& p = *m.peer;
  if (!p.ok() || !p.send_line(cat("/nick ", nick))
      || p.line() != cat("* you are now known as ", nick)
      || !p.send_line(cat("/join #", room))
      || !p.wait_for(cat("* ", nick, " joined #", room)))
    m.peer.reset();
  return m;
}

bool wait_members(chat_member& m, const std::set<std::string>& nicks,
                  clock::duration timeout) {
  auto want = cat("* members of #", m.room, ":");
  for (auto& n : nicks)
    want.append(" ").append(n); // a std::set is sorted, as the list is
  return wait_until(
    [&] {
      if (!m.peer->send_line("/list"))
        return false;
      auto prefix = cat("* members of #", m.room, ":");
      while (auto l = m.peer->line(10s))
        if (l->rfind(prefix, 0) == 0)
          return *l == want;
      return false;
    },
    timeout);
}

std::set<std::string> nicks_in(const std::vector<chat_member*>& all,
                               const std::string& room) {
  std::set<std::string> out;
  for (auto* m : all)
    if (m->room == room)
      out.insert(m->nick);
  return out;
}

std::string exchange(const std::vector<chat_member*>& all, int count,
                     const std::string& tag) {
  for (int i = 1; i <= count + 1; ++i)
    for (auto* m : all) {
      auto text = i <= count ? cat(tag, std::to_string(i), " ", m->nick, "@",
                                   m->room)
                             : cat(tag, "-end ", m->nick);
      if (!m->peer->send_line(text))
        return cat(m->nick, " could not send");
    }
  std::regex msg{R"(<([\w-]+)> (\w+?)(\d+) ([\w-]+)@([\w-]+))"};
  std::regex end{R"(<([\w-]+)> (\w+)-end ([\w-]+))"};
  for (auto* m : all) {
    auto senders = nicks_in(all, m->room);
    std::map<std::string, int> last; // sender -> last number seen
    size_t ended = 0;
    while (ended < senders.size()) {
      auto l = m->peer->line();
      if (!l)
        return cat(m->nick, ": timeout after ", std::to_string(ended),
                   " end markers");
      std::smatch s;
      if (std::regex_match(*l, s, end)) {
        if (s[2] != tag || s[1] != s[3] || senders.count(s[1]) == 0
            || last[s[1]] != count)
          return cat(m->nick, " heard ", *l, " after ",
                     std::to_string(last[s[1]]), " messages of ", s[1].str());
        last[s[1]] = count + 1;
        ++ended;
        continue;
      }
      if (!std::regex_match(*l, s, msg) || s[2] != tag || s[1] != s[4]
          || s[5] != m->room || senders.count(s[1]) == 0)
        return cat(m->nick, " in #", m->room, " heard: ", *l);
      auto n = std::stoi(s[3]);
      if (n != last[s[1]] + 1) // each once, in order
        return cat(m->nick, " heard ", *l, " after ",
                   std::to_string(last[s[1]]));
      last[s[1]] = n;
    }
  }
  return {};
}

} // namespace actio::test
