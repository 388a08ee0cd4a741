#include "actio/drivers/driver.hpp"

namespace actio {

driver::~driver() {
  // nop
}

file_backend::~file_backend() {
  // nop
}

} // namespace actio
