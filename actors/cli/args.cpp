#include "actio/actors/cli/args.hpp"

#include <cstdlib>

namespace actio::cli {

bool args::next() {
  if (++index_ >= argc_)
    return false;
  arg_ = argv_[index_];
  value_.clear();
  has_value_ = false;
  if (auto eq = arg_.find('='); arg_.rfind("--", 0) == 0
                                && eq != std::string::npos) {
    value_ = arg_.substr(eq + 1);
    arg_.resize(eq);
    has_value_ = true;
  }
  return true;
}

std::string args::value() {
  if (has_value_)
    return value_;
  if (index_ + 1 >= argc_)
    std::exit(tool_->missing_argument(arg_));
  return argv_[++index_];
}

void args::reject() const {
  if (arg_.empty() || arg_[0] != '-')
    std::exit(tool_->usage_error("extra operand '" + arg_ + "'"));
  std::exit(tool_->unrecognized_option(raw()));
}

} // namespace actio::cli
