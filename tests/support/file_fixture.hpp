#pragma once

// The file tests' common ground: a backend_test with a private temporary
// directory (removed after the test) and a file service on the runtime.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

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

  /// Sends one request to the file service and waits for its answer
  /// (bounded: 60 s).
  template <class T, class... Ts>
  caf::expected<T> call(Ts&&... xs) {
    caf::scoped_actor self{sys()};
    caf::expected<T> result = caf::make_error(caf::sec::request_timeout);
    self->request(files_, std::chrono::seconds{60}, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// `call` for a request answered with unit (fsync, close).
  caf::error call_void(caf::message msg) {
    caf::scoped_actor self{sys()};
    caf::error result = caf::make_error(caf::sec::request_timeout);
    self->request(files_, std::chrono::seconds{60}, std::move(msg))
      .receive([&]() { result = caf::none; },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::filesystem::path dir_;
  caf::actor files_;

private:
  std::string name_;
};

} // namespace actio::test
