#pragma once

// A runtime per test, parameterised over every backend this build and
// machine offer (actio::available_backends()).

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/settings.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/drivers/select.hpp"

namespace actio::test {

class backend_test : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    // (config::set cannot address "actio.io.x": CAF 0.17 splits at the
    // first dot. Writing the settings directly is what the parser does.)
    caf::put(cfg_.content, "actio.io.backend", GetParam());
    caf::put(cfg_.content, "actio.io.drivers", drivers());
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    auto rt = runtime::start(*sys_);
    ASSERT_TRUE(rt) << sys_->render(rt.error());
    rt_ = std::move(*rt);
  }

  void TearDown() override {
    if (rt_)
      rt_->shutdown();
    rt_.reset();
    sys_.reset();
  }

  /// Driver threads for this suite.
  virtual size_t drivers() const {
    return 1;
  }

  caf::actor_system& sys() {
    return *sys_;
  }

  runtime& rt() {
    return *rt_;
  }

  config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::unique_ptr<runtime> rt_;
};

/// True if `err` is the Actio error `code`.
inline bool is_errc(const caf::error& err, errc code) {
  return err && err.category() == caf::atom("actio")
         && err.code() == static_cast<uint8_t>(code);
}

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& x) {
  return x.param;
}

} // namespace actio::test

#define ACTIO_TEST_ALL_BACKENDS(suite)                                         \
  INSTANTIATE_TEST_SUITE_P(backends, suite,                                    \
                           ::testing::ValuesIn(actio::available_backends()),   \
                           actio::test::backend_name)
