#include "actio/proto/detail/basp_guard.hpp"

#include <dlfcn.h>

#include <atomic>

#include <caf/io/basp/header.hpp>

namespace actio {

namespace {

std::atomic<uint64_t> max_payload{default_basp_max_payload};

using valid_fn = bool (*)(const caf::io::basp::header&);

// The mangled name of caf::io::basp::valid(const header&).
constexpr const char* valid_symbol = "_ZN3caf2io4basp5validERKNS1_6headerE";

valid_fn caf_valid() {
  static auto fn = reinterpret_cast<valid_fn>(dlsym(RTLD_NEXT, valid_symbol));
  return fn;
}

} // namespace

void set_basp_max_payload(uint64_t bytes) {
  max_payload.store(bytes, std::memory_order_relaxed);
}

uint64_t basp_max_payload() {
  return max_payload.load(std::memory_order_relaxed);
}

bool basp_guard_active() {
  return dlsym(RTLD_DEFAULT, valid_symbol)
           == reinterpret_cast<void*>(
             static_cast<valid_fn>(&caf::io::basp::valid))
         && caf_valid() != nullptr;
}

} // namespace actio

namespace caf::io::basp {

bool valid(const header& hdr) {
  if (hdr.payload_len > actio::basp_max_payload())
    return false;
  auto real = actio::caf_valid();
  return real != nullptr && real(hdr);
}

} // namespace caf::io::basp
