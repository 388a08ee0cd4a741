#pragma once

// The chat's text-line mode (nc/telnet friendly): a line becomes a request,
// an event becomes a line. Header-only: actio-chat-client prints with it too.
//
//   /nick NAME   take a unique nickname      /join ROOM  (or #ROOM) enter
//   /leave       leave the room              /list       rooms (+ members)
//   /quit        leave and disconnect        other text  said to the room
//   /help        the commands (no request: answered by whoever reads it)
//   Commands are case-insensitive (/NICK, /Join). A line starting with "//"
//   says the text after the first '/'.

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "actio/proto/chat.pb.h"

namespace chat {

/// 1..32 of [A-Za-z0-9_-] (nicks and room names, without '#').
inline bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 32
         && std::all_of(s.begin(), s.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '_' || c == '-';
            });
}

/// What a text line asks for.
struct parsed_line {
  enum kind_t { empty, request, help, unknown } kind = empty;
  actio::proto::chat::Request req; ///< with `request`
};

/// The first line a text client reads (on connect).
inline constexpr std::string_view welcome_line
  = "* welcome to actio-chat: /nick NAME, then /join ROOM; /help lists the "
    "commands";

/// The answer to /help, one line each.
inline constexpr std::string_view help_lines[] = {
  "* commands (case-insensitive):",
  "*   /nick NAME   take a nickname: 1-32 letters, digits, '_' or '-'",
  "*   /join ROOM   enter a room (#ROOM too), leaving the one you are in",
  "*   /leave       leave the room (/part too)",
  "*   /list        the rooms, and the members of yours",
  "*   /quit        leave and disconnect",
  "*   /help        this list",
  "* other text is said to your room; '//' at the start says one '/'",
};

/// The text of an unknown_command error.
inline constexpr std::string_view unknown_command_text
  = "unknown command (/help lists them)";

/// Parses one text line (commands case-insensitive).
inline parsed_line parse_text_line(std::string_view line) {
  parsed_line out;
  if (line.empty())
    return out;
  auto& req = out.req;
  out.kind = parsed_line::request;
  if (line[0] != '/' || (line.size() > 1 && line[1] == '/')) {
    if (line[0] == '/')
      line.remove_prefix(1);
    req.mutable_say()->set_text(std::string{line});
    return out;
  }
  auto sp = line.find(' ');
  std::string cmd{line.substr(0, sp)};
  for (auto& c : cmd)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view arg;
  if (sp != std::string_view::npos) {
    arg = line.substr(sp + 1);
    while (!arg.empty() && arg.front() == ' ')
      arg.remove_prefix(1);
    while (!arg.empty() && arg.back() == ' ')
      arg.remove_suffix(1);
  }
  if (cmd == "/nick")
    req.mutable_nick()->set_nick(std::string{arg});
  else if (cmd == "/join") {
    if (!arg.empty() && arg[0] == '#')
      arg.remove_prefix(1);
    req.mutable_join()->set_room(std::string{arg});
  } else if (cmd == "/leave" || cmd == "/part")
    req.mutable_leave();
  else if (cmd == "/list")
    req.mutable_list();
  else if (cmd == "/quit")
    req.mutable_quit();
  else if (cmd == "/help")
    out.kind = parsed_line::help;
  else
    out.kind = parsed_line::unknown;
  return out;
}

/// Control characters but TAB become '?' (so no one can inject lines; the
/// server cleans text where it comes in already, clean_text.hpp).
inline std::string printable(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      c = '?';
  return out;
}

inline std::string lower_code(actio::proto::chat::Error::Code code) {
  auto s = actio::proto::chat::Error::Code_Name(code);
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One event as one line (without the newline):
///   * alice joined #room          * alice left #room
///   <alice> hello                 * alice is now known as bob
///   * you are now known as bob    (a first nick, outside rooms)
///   * rooms: #a #b                * members of #a: alice bob
///   ! nick_taken: ...             * bye
inline std::string render(const actio::proto::chat::Event& ev) {
  using E = actio::proto::chat::Event;
  std::string out;
  switch (ev.kind_case()) {
    case E::kJoined:
      out.append("* ").append(ev.joined().nick()).append(" joined #")
        .append(ev.joined().room());
      break;
    case E::kLeft:
      out.append("* ").append(ev.left().nick()).append(" left #")
        .append(ev.left().room());
      break;
    case E::kMessage:
      out.append("<").append(ev.message().nick()).append("> ")
        .append(printable(ev.message().text()));
      break;
    case E::kNickChanged:
      if (ev.nick_changed().old_nick().empty())
        out.append("* you are now known as ")
          .append(ev.nick_changed().new_nick());
      else
        out.append("* ").append(ev.nick_changed().old_nick())
          .append(" is now known as ").append(ev.nick_changed().new_nick());
      break;
    case E::kRoomList:
      out.append("* rooms:");
      for (auto& r : ev.room_list().rooms())
        out.append(" #").append(r);
      break;
    case E::kMemberList:
      out.append("* members of #").append(ev.member_list().room()).append(":");
      for (auto& n : ev.member_list().nicks())
        out.append(" ").append(n);
      break;
    case E::kError:
      out.append("! ").append(lower_code(ev.error().code())).append(": ")
        .append(printable(ev.error().text()));
      break;
    case E::kBye:
      out.append("* bye");
      break;
    default:
      out.append("? unknown event");
  }
  return out;
}

} // namespace chat
