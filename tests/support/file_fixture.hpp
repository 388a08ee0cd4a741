#pragma once

// The file tests' common ground: a backend_test with a private temporary
// directory (removed after the test) and a file service on the runtime.

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <caf/actor.hpp>

#include "actio/io/file_service.hpp"
#include "support/fixture.hpp"

namespace actio::test {

class file_service_test : public backend_test {
protected:
  /// `name` goes into the directory's name: /tmp/actio-NAME-PID-BACKEND.
  explicit file_service_test(std::string name) : name_(std::move(name)) {
  }

  void SetUp() override {
    backend_test::SetUp();
    dir_ = std::filesystem::temp_directory_path()
           / ("actio-" + name_ + "-" + std::to_string(::getpid()) + "-"
              + GetParam());
    std::filesystem::create_directories(dir_);
    files_ = io::spawn_file_service(rt().unit(0));
  }

  void TearDown() override {
    files_ = nullptr;
    backend_test::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const {
    return (dir_ / name).string();
  }

  std::filesystem::path dir_;
  caf::actor files_;

private:
  std::string name_;
};

} // namespace actio::test
