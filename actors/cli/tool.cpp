#include "actio/actors/cli/tool.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#ifndef ACTIO_VERSION
#  error "ACTIO_VERSION must be defined (CMake's project version)"
#endif

namespace actio::cli {

namespace {

// The name for the exit check. A fixed buffer, not a std::string: the
// handler runs at exit, when other static objects may be gone already.
char exit_name[64] = "actio";

// errno of a failed write of ours, for the message at exit: a text longer
// than stdout's buffer fails at once, and a later fflush finds nothing
// left to write (and sets no errno).
int write_errno = 0;

void emit(const std::string& text) {
  errno = 0;
  std::cout << text;
  if (std::cout.bad() && write_errno == 0)
    write_errno = errno;
}

void check_stdout_at_exit() {
  if (!check_stdout(exit_name))
    std::_Exit(exit_failure); // as coreutils' close_stdout: the status is 1
}

void write_stderr(std::string_view name, std::string_view message) {
  std::string line{name};
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace

std::string_view version() noexcept {
  return ACTIO_VERSION;
}

tool::tool(std::string name, std::string operands, std::string summary)
  : name_(std::move(name)),
    operands_(std::move(operands)),
    summary_(std::move(summary)) {
  // The check must run before std::cout's final flush (ios_base::Init's
  // destructor), or that flush fails first and the reason is lost: exit
  // runs handlers in reverse order, so the Init object is made first, also
  // for a tool constructed before main in a file without <iostream>.
  static std::ios_base::Init streams;
  static bool registered = false;
  std::snprintf(exit_name, sizeof(exit_name), "%s", name_.c_str());
  if (!registered) {
    registered = true;
    std::atexit(check_stdout_at_exit);
  }
}

std::string tool::usage_line() const {
  std::string line = "Usage: " + name_ + " [OPTION]...";
  if (!operands_.empty()) {
    line += ' ';
    line += operands_;
  }
  return line;
}

int tool::print_help(std::string_view options) const {
  std::string text = usage_line();
  text += '\n';
  if (!summary_.empty()) {
    text += summary_;
    if (summary_.back() != '\n')
      text += '\n';
  }
  if (!options.empty()) {
    text += "\nOptions:\n";
    text += options;
    if (options.back() != '\n')
      text += '\n';
  }
  text += option_line("-h, --help", "print this help and exit");
  text += option_line("--version", "print the version and exit");
  text += "\nExit status: 0 on success, 1 on a run-time failure, 2 on a usage "
          "error.\n";
  emit(text);
  return exit_success;
}

int tool::print_version() const {
  emit(name_ + " (Actio) " + std::string{version()} + "\n");
  return exit_success;
}

int tool::usage_error(std::string_view message) const {
  std::string text{message};
  text += "\nTry '" + name_ + " --help' for more information.";
  write_stderr(name_, text);
  return exit_usage;
}

int tool::unrecognized_option(std::string_view arg) const {
  if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-') {
    std::string text = "invalid option -- '";
    text += arg.substr(1);
    text += '\'';
    return usage_error(text);
  }
  std::string text = "unrecognized option '";
  text += arg;
  text += '\'';
  return usage_error(text);
}

int tool::missing_argument(std::string_view option) const {
  std::string text = "option '";
  text += option;
  text += "' requires an argument";
  return usage_error(text);
}

int tool::bad_value(std::string_view option, std::string_view value,
                    std::string_view expected) const {
  std::string text{option};
  text += ": '";
  text += value;
  text += "' is not ";
  text += expected;
  return usage_error(text);
}

std::optional<int>
tool::check_operands(const std::vector<std::string>& operands,
                     const std::vector<std::string>& names) const {
  if (operands.size() > names.size())
    return usage_error("extra operand '" + operands[names.size()] + "'");
  if (operands.size() < names.size()) {
    std::string text = "missing " + names[operands.size()] + " operand";
    if (!operands.empty())
      text += " after '" + operands.back() + "'";
    return usage_error(text);
  }
  return std::nullopt;
}

int tool::fail(std::string_view message) const {
  write_stderr(name_, message);
  return exit_failure;
}

std::string option_line(std::string_view left, std::string_view text) {
  constexpr size_t column = 30;
  std::string line = "  ";
  line += left;
  if (line.size() + 2 > column) {
    line += '\n';
    line.append(column, ' ');
  } else {
    line.append(column - line.size(), ' ');
  }
  line += text;
  line += '\n';
  return line;
}

bool check_stdout(std::string_view name) {
  // std::cout is synchronised with stdio: its flush is stdout's fflush, and
  // the first failing one sets errno (a second finds an empty buffer).
  errno = 0;
  std::cout.flush();
  bool failed = std::cout.bad();
  int err = failed ? errno : 0;
  errno = 0;
  if (std::fflush(stdout) != 0) {
    failed = true;
    if (err == 0)
      err = errno;
  }
  if (std::ferror(stdout) != 0)
    failed = true;
  if (!failed)
    return true;
  if (err == 0)
    err = write_errno;
  // The write failed earlier (the program flushed itself) and errno is
  // gone: an empty write asks the file again. /dev/full and closed pipes
  // answer with the reason; a file on a full disk may not (then none).
  if (err == 0 && ::write(STDOUT_FILENO, "", 0) < 0)
    err = errno;
  std::string text = "write error";
  if (err != 0) {
    text += ": ";
    text += std::strerror(err);
  }
  write_stderr(name, text);
  return false;
}

} // namespace actio::cli
