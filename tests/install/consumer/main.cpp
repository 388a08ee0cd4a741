#include <iostream>
#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
int main(int argc, char** argv) {
  actio::config cfg;
  if (auto err = cfg.parse(argc, argv)) return 1;
  caf::actor_system sys{cfg};
  auto rt = actio::runtime::start(sys);
  if (!rt) { std::cerr << "start failed\n"; return 1; }
  std::cout << "consumer: backend " << (*rt)->backend_name() << '\n';
  (*rt)->shutdown();
  return 0;
}
