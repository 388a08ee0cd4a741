// A fixture for layers.catches_stderr: the library writing to stderr and
// to stdout. std::cerr and std::cout in a comment are fine.
#include <cstdio>
#include <iostream>

void noisy(int n) {
  std::cerr << "actio: " << n << '\n';
  std::fprintf(stderr, "actio: %d\n", n);
  std::cout << "actio: " << n << '\n';
  std::printf("actio: %d\n", n);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%d", n); // not output: fine
}
