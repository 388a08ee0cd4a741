#pragma once

// The browser chat's page (web/index.html), compiled into actio-chat by
// CMake (examples/chat/web/page.cpp.in): HTML and JavaScript, no build
// step, nothing fetched from elsewhere.

#include <string_view>

namespace chat {

extern const std::string_view chat_page;

} // namespace chat
