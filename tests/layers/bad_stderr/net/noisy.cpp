// A fixture for layers.catches_stderr: the library writing to stderr.
// std::cerr in a comment is fine.
#include <cstdio>
#include <iostream>

void noisy(int n) {
  std::cerr << "actio: " << n << '\n';
  std::fprintf(stderr, "actio: %d\n", n);
}
