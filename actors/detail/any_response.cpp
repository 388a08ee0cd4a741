#include "actio/actors/detail/any_response.hpp"

#include <caf/detail/behavior_impl.hpp>
#include <caf/message.hpp>

namespace actio::detail {

namespace {

class any_impl : public caf::detail::behavior_impl {
public:
  explicit any_impl(std::function<void(caf::message&)> fn)
    : fn_(std::move(fn)) {
    begin_ = end_ = nullptr;
  }

  caf::match_case::result invoke(caf::detail::invoke_result_visitor& f,
                                 caf::type_erased_tuple& xs) override {
    auto msg = caf::message::copy(xs);
    fn_(msg);
    f();
    return caf::match_case::match;
  }

private:
  std::function<void(caf::message&)> fn_;
};

} // namespace

caf::behavior any_response(std::function<void(caf::message&)> fn) {
  caf::behavior::impl_ptr impl{caf::make_counted<any_impl>(std::move(fn))};
  return caf::behavior{std::move(impl)};
}

} // namespace actio::detail
