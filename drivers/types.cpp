#include "actio/drivers/types.hpp"

#include <unistd.h>

namespace actio {

owned_fd::owned_fd(int fd) : ptr_(new holder{fd}) {
}

int owned_fd::get() const noexcept {
  return ptr_ ? ptr_->fd : -1;
}

int owned_fd::release() noexcept {
  if (!ptr_)
    return -1;
  auto fd = ptr_->fd;
  ptr_->fd = -1;
  ptr_.reset();
  return fd;
}

owned_fd::holder::~holder() {
  if (fd >= 0)
    ::close(fd);
}

} // namespace actio
