#pragma once

// connection::tls_dispatch, shared by the TLS halves of the connection
// actor (net/connection_tls.cpp, net/connection_tls_write.cpp). Internal.

#include <utility>

#include <caf/mailbox_element.hpp>

#include "actio/net/connection.hpp"

namespace actio::net {

template <class T>
void connection::tls_dispatch(T&& event) {
  // Synchronously, in order with the driver event being handled: only
  // called while consuming a driver event, a timer or a tls_pump (none of
  // which awaits a response), never from inside a behaviour's handler.
  auto elem = caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                        std::forward<T>(event));
  auto* prev = current_mailbox_element();
  current_mailbox_element(elem.get());
  deliver(*elem);
  current_mailbox_element(prev);
}

} // namespace actio::net
