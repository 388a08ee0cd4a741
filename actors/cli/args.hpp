#pragma once

/// Walks a command line for programs with their own option parser (the
/// benchmarks), so that each does not write the same loop: `--opt VALUE` and
/// `--opt=VALUE` are read alike, and a missing value is the usage error every
/// tool gives.
///
/// ```
/// for (actio::cli::args a{tool, argc, argv}; a.next();) {
///   a.exit_on_help_or_version(print_help);
///   if (a.arg() == "--port")
///     port = a.value();
///   else if (a.arg() == "--pin" && !a.has_inline_value())
///     pin = true;
///   else
///     a.reject();
/// }
/// ```

#include <cstdlib>
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

  /// The options every tool has: "--help" or "-h" calls `help()` (which
  /// prints the help) and exits 0; "--version" prints the version and exits
  /// 0. Returns for any other argument.
  template <class Help>
  void exit_on_help_or_version(Help&& help) const {
    if (arg_ == "--help" || arg_ == "-h") {
      help();
      std::exit(0);
    }
    if (arg_ == "--version")
      std::exit(tool_->print_version());
  }

  /// An argument no option of the tool took: exits with the usage error
  /// "extra operand 'x'" for an operand, "unrecognized option '--x'" for
  /// an option (status 2).
  [[noreturn]] void reject() const;

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
