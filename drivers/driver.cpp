#include "actio/drivers/driver.hpp"

#include <caf/actor_control_block.hpp>
#include <caf/message_id.hpp>

namespace actio {

driver::~driver() {
  // nop
}

file_backend::~file_backend() {
  // nop
}

void driver::deliver(const caf::strong_actor_ptr& owner, caf::message msg) {
  if (owner)
    owner->enqueue(nullptr, caf::make_message_id(), std::move(msg), eu_);
}

} // namespace actio
