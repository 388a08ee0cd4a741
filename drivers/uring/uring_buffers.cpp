#include "actio/drivers/uring/uring_buffers.hpp"

#include <cerrno>
#include <cstring>

#include <sys/mman.h>

#include "actio/drivers/errc.hpp"

namespace actio {

static_assert((uring_buffers::count & (uring_buffers::count - 1)) == 0,
              "the ring size must be a power of two");
static_assert(uring_buffers::count <= 32768, "the kernel's limit");

uring_buffers::~uring_buffers() {
  if (br_ != nullptr)
    munmap(br_, br_bytes_);
  if (pool_ != nullptr)
    munmap(pool_, count * size);
}

caf::error uring_buffers::init(io_uring& ring, uint16_t group) {
  if (registered_)
    return caf::none;
  // The ring entries live in page-aligned memory. (A failed init keeps
  // what it mapped; the next attempt reuses it.)
  br_bytes_ = sizeof(io_uring_buf) * count;
  if (br_ == nullptr) {
    void* mem = mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED)
      return make_errno_error("mmap(buffer ring)", errno);
    br_ = static_cast<io_uring_buf_ring*>(mem);
  }
  if (pool_ == nullptr) {
    void* mem = mmap(nullptr, count * size, PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED)
      return make_errno_error("mmap(receive buffers)", errno);
    pool_ = static_cast<uint8_t*>(mem);
  }
  // The kernel walks the whole ring (buffers go back at its tail), so every
  // page becomes resident soon anyway: fault them in now, a fixed cost at
  // start rather than growth under load.
  std::memset(pool_, 0, count * size);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group;
  if (auto err = io_uring_register_buf_ring(&ring, &reg, 0); err < 0)
    return make_errno_error("io_uring_register_buf_ring", -err);
  group_ = group;
  registered_ = true;
  auto mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i)
    io_uring_buf_ring_add(br_, data(i), size, static_cast<uint16_t>(i), mask,
                          static_cast<int>(i));
  io_uring_buf_ring_advance(br_, count);
  return caf::none;
}

void uring_buffers::unregister(io_uring& ring) noexcept {
  if (registered_) {
    io_uring_unregister_buf_ring(&ring, group_);
    registered_ = false;
  }
}

void uring_buffers::recycle(unsigned bid) noexcept {
  io_uring_buf_ring_add(br_, data(bid), size, static_cast<uint16_t>(bid),
                        io_uring_buf_ring_mask(count), 0);
  io_uring_buf_ring_advance(br_, 1);
}

} // namespace actio
