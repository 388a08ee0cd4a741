#include <csignal>

#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed memory in a quarantine (256 MiB by default) to catch
// use-after-free; the memory-bound tests measure RSS, and streaming 1 GiB
// through 64 KiB chunks would fill it. A smaller quarantine still catches
// recent use-after-free and keeps RSS meaningful. (ASAN_OPTIONS overrides.)
extern "C" const char* __asan_default_options() {
  return "quarantine_size_mb=16";
}
#endif

int main(int argc, char** argv) {
  // Tests write to sockets whose peers may be gone; fail the write, not us.
  std::signal(SIGPIPE, SIG_IGN);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
