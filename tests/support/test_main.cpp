#include <csignal>
#include <cstdlib>
#include <string>

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
#if defined(__SANITIZE_ADDRESS__)
  // Programs the tests start (actio-chat, ...) are instrumented too but
  // lack the default above; some tests bound their RSS: give them the same
  // quarantine (appended, so it wins over nothing else the caller set).
  std::string opts = "quarantine_size_mb=16";
  if (const char* given = std::getenv("ASAN_OPTIONS"); given && *given)
    opts = std::string{given} + ":" + opts;
  ::setenv("ASAN_OPTIONS", opts.c_str(), 1);
#endif
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
