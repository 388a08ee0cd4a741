#include <csignal>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  // Tests write to sockets whose peers may be gone; fail the write, not us.
  std::signal(SIGPIPE, SIG_IGN);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
