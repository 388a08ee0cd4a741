#pragma once

// Helpers for tests of distributed actio-chat: node processes (each on
// OS-chosen client and node ports) and text clients that join, wait until
// they see a room's members and exchange numbered messages.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "examples/chat_peer.hpp"

namespace actio::test {

/// An actio-chat process in node mode.
struct chat_node {
  child_process proc;
  uint16_t port = 0;      ///< for clients (0: did not start)
  uint16_t node_port = 0; ///< for peers
};

/// Starts `actio-chat --port 0 --rate=0 --node-port NP extra...` and reads
/// its two start-up lines.
chat_node start_chat_node(const std::vector<std::string>& extra = {},
                          uint16_t node_port = 0);

/// "127.0.0.1:P1,127.0.0.1:P2" for --peer.
std::string peer_list(const std::vector<uint16_t>& node_ports);

/// A text client in a room.
struct chat_member {
  std::string nick;
  std::string room;
  std::unique_ptr<chat_peer> peer;
};

/// Connects to `port`, takes `nick`, joins `room` and reads its own join;
/// a member without peer if any step failed.
chat_member join_chat(uint16_t port, const std::string& nick,
                      const std::string& room);

/// Asks /list until the member list of its room is exactly `nicks` (true),
/// or `timeout`. Events read meanwhile are dropped.
bool wait_members(chat_member& m, const std::set<std::string>& nicks,
                  clock::duration timeout = 30s);

/// The nicks of the members in `room` among `all`.
std::set<std::string> nicks_in(const std::vector<chat_member*>& all,
                               const std::string& room);

/// Every member sends `count` messages "<tag><i> <nick>@<room>" and then
/// "<tag>-end <nick>"; then every member must read exactly the messages of
/// its room's members (all of `all` in its room, itself included), each
/// once, each sender's in order, and nothing else. "" if so, else what
/// went wrong.
std::string exchange(const std::vector<chat_member*>& all, int count,
                     const std::string& tag);

} // namespace actio::test
