#pragma once

/// Command-line conventions shared by every `actio-*` program (coreutils
/// style), without CAF, so that the benchmarks that do not link Actio use it
/// too:
///
/// - `--help` prints "Usage: NAME [OPTION]... OPERANDS" to stdout, exit 0;
/// - `--version` prints "NAME (Actio) VERSION" to stdout, exit 0;
/// - a usage error prints one line "NAME: what is wrong" and
///   "Try 'NAME --help' for more information." to stderr, exit 2;
/// - a run-time failure exits 1, success 0;
/// - standard output is flushed and checked at exit: a write error (a full
///   disk, a closed pipe) prints "NAME: write error: REASON" and exits 1.
///
/// `actio::config::parse_args(tool, argc, argv)` applies these rules to CAF
/// options; programs with their own parser call the functions below.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace actio::cli {

/// Exit statuses, the same in every tool.
enum exit_status : int {
  exit_success = 0,
  exit_failure = 1, ///< run-time failure
  exit_usage = 2,   ///< bad command line
};

/// The project version (CMake's `project(VERSION)`), e.g. "0.1.0".
std::string_view version() noexcept;

/// One command-line program: its name, operands and summary.
class tool {
public:
  /// Also arranges the check of standard output at exit (see above).
  /// @param name the program's name, e.g. "actio-copy"
  /// @param operands the positional arguments for the usage line,
  ///        e.g. "SRC DST" or "[FILE]..."; empty if none
  /// @param summary one or more lines printed after the usage line
  tool(std::string name, std::string operands, std::string summary);

  const std::string& name() const noexcept {
    return name_;
  }

  /// "Usage: NAME [OPTION]... OPERANDS"
  std::string usage_line() const;

  /// Prints the usage line, the summary and `options` (preformatted lines,
  /// see `option_line`) to stdout. @returns `exit_success`
  int print_help(std::string_view options) const;

  /// Prints "NAME (Actio) VERSION" to stdout. @returns `exit_success`
  int print_version() const;

  /// Prints "NAME: MESSAGE" and the "Try" line to stderr.
  /// @returns `exit_usage`
  int usage_error(std::string_view message) const;

  /// "unrecognized option 'ARG'" (`--bogus`) or "invalid option -- 'x'"
  /// (`-x`) as a usage error. @returns `exit_usage`
  int unrecognized_option(std::string_view arg) const;

  /// "option 'OPTION' requires an argument" as a usage error.
  /// @returns `exit_usage`
  int missing_argument(std::string_view option) const;

  /// "OPTION: 'VALUE' is not EXPECTED" as a usage error, e.g.
  /// `--port: 'abc' is not a port number (0-65535)`. @returns `exit_usage`
  int bad_value(std::string_view option, std::string_view value,
                std::string_view expected) const;

  /// Checks the number of operands: `names` names each expected one
  /// ("file", "destination file"). Too few: "missing destination file
  /// operand after 'a'"; too many: "extra operand 'c'", as usage errors.
  /// @returns `exit_usage` on error, nothing if the count is right
  std::optional<int> check_operands(const std::vector<std::string>& operands,
                                    const std::vector<std::string>& names) const;

  /// Prints "NAME: MESSAGE" to stderr. @returns `exit_failure`
  int fail(std::string_view message) const;

private:
  std::string name_;
  std::string operands_;
  std::string summary_;
};

/// One line of an options list: "  -p, --port=PORT    text" with the text
/// aligned at column 30 (on the next line if the left part is longer).
std::string option_line(std::string_view left, std::string_view text);

/// Flushes stdout and reports a write error as "NAME: write error: REASON".
/// @returns true if everything written so far reached the file or pipe.
/// Called at exit by every `tool`; public for tests.
bool check_stdout(std::string_view name);

} // namespace actio::cli
