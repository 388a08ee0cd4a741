#pragma once

/// Walks a command line for programs with their own option parser (the
/// benchmarks), so that each does not write the same loop: `--opt VALUE` and
/// `--opt=VALUE` are read alike, and a missing value is the usage error every
/// tool gives.
///
/// ```
/// for (actio::cli::args a{tool, argc, argv}; a.next();) {
///   if (a.arg() == "--port")
///     port = a.value();
///   else if (a.arg() == "--pin" && !a.has_inline_value())
///     pin = true;
///   else
///     std::exit(tool.unrecognized_option(a.raw()));
/// }
/// ```

#include <string>

#include "actio/actors/cli/tool.hpp"

namespace actio::cli {

class args {
public:
  args(const tool& t, int argc, char** argv) noexcept
    : tool_(&t), argc_(argc), argv_(argv) {
  }

  /// Moves to the next argument. @returns false when none is left.
  bool next();

  /// The argument without its "=VALUE" part (for "--opt=VALUE").
  const std::string& arg() const noexcept {
    return arg_;
  }

  /// The argument as given.
  const char* raw() const noexcept {
    return argv_[index_];
  }

  /// True if the argument carried "=VALUE".
  bool has_inline_value() const noexcept {
    return has_value_;
  }

  /// The option's value: the part after '=' or else the next argument,
  /// which is consumed. Exits with the usage error "option '--opt' requires
  /// an argument" (status 2) if there is none.
  std::string value();

private:
  const tool* tool_;
  int argc_;
  char** argv_;
  int index_ = 0;
  std::string arg_;
  std::string value_;
  bool has_value_ = false;
};

} // namespace actio::cli
