// config::parse_args(tool, ...): CAF's command-line parsing, with the
// messages and exit statuses of actio/actors/cli/tool.hpp. Values are checked here
// first, option by option, because CAF 0.17 reports a bad value as
// "parser_error(unexpected_character, ...)" without naming the option.

#include "actio/actors/config.hpp"

#include <cctype>
#include <string>
#include <string_view>

#include <caf/config_option.hpp>

namespace actio {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_port(const caf::config_option& opt) {
  return std::string_view{opt.long_name().data(), opt.long_name().size()}
           .find("port")
         != std::string_view::npos;
}

// What a value of this CAF type looks like, for "is not ...".
std::string expected_text(const caf::config_option& opt) {
  std::string type{opt.type_name().data(), opt.type_name().size()};
  if (type == "uint16")
    return is_port(opt) ? "a port number (0-65535)" : "an integer (0-65535)";
  if (type == "int32" && is_port(opt)) // -1 as "not given" (--metrics-port)
    return "a port number (0-65535)";
  if (type == "uint8")
    return "an integer (0-255)";
  if (type == "uint32")
    return "an integer (0-4294967295)";
  if (starts_with(type, "uint"))
    return "a non-negative integer";
  if (starts_with(type, "int"))
    return "an integer";
  if (starts_with(type, "real"))
    return "a number";
  if (type == "boolean")
    return "a boolean (true or false)";
  if (type == "timespan")
    return "a duration (e.g. 500ms, 2s)";
  if (type == "atom")
    return "an atom (up to 10 characters)";
  if (starts_with(type, "list of "))
    return "a comma-separated list of " + type.substr(8) + " values";
  return "a valid " + type;
}

// The placeholder in "--port=PORT".
std::string placeholder(const caf::config_option& opt) {
  std::string type{opt.type_name().data(), opt.type_name().size()};
  if ((type == "uint16" || type == "int32") && is_port(opt))
    return "PORT";
  if (starts_with(type, "uint") || starts_with(type, "int"))
    return "N";
  if (starts_with(type, "real"))
    return "NUM";
  if (type == "timespan")
    return "DURATION";
  if (starts_with(type, "list of "))
    return "LIST";
  return "TEXT";
}

std::string cli_name(const caf::config_option& opt) {
  auto name = opt.has_flat_cli_name() ? opt.long_name() : opt.full_name();
  return std::string{name.data(), name.size()};
}

// CAF's own options that --help does not list (they keep working).
bool hidden(const caf::config_option& opt) {
  auto name = opt.long_name();
  return name == "help" || name == "long-help" || name == "dump-config";
}

} // namespace

std::string config::options_help() const {
  std::string text;
  auto add = [&](const caf::config_option& opt) {
    std::string left;
    auto shorts = opt.short_names();
    if (!shorts.empty()) {
      left += '-';
      left += shorts[0];
      left += ", ";
    }
    // (appends, not operator+: GCC 12 -Wrestrict false alarm)
    left.append("--").append(cli_name(opt));
    if (!opt.is_flag())
      left.append("=").append(placeholder(opt));
    text += cli::option_line(left, std::string{opt.description().data(),
                                               opt.description().size()});
  };
  for (auto& opt : custom_options_)
    if (opt.has_flat_cli_name() && !hidden(opt))
      add(opt);
  for (auto& opt : custom_options_)
    if (starts_with({opt.category().data(), opt.category().size()}, "actio."))
      add(opt);
  return text;
}

std::optional<int> config::parse_args(const cli::tool& tool, int argc,
                                      char** argv,
                                      const std::vector<std::string>& operands) {
  if (auto status = parse_args(tool, argc, argv))
    return status;
  return tool.check_operands(remainder, operands);
}

std::optional<int> config::parse_args(const cli::tool& tool, int argc,
                                      char** argv) {
  string_list args;
  string_list positional;
  bool options_end = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_end || arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(std::move(arg));
      continue;
    }
    if (arg == "--") {
      options_end = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || arg == "-?")
      return tool.print_help(options_help());
    if (arg == "--version")
      return tool.print_version();
    const caf::config_option* opt = nullptr;
    std::string shown; // the option as the messages name it
    std::optional<std::string> value;
    if (arg[1] == '-') {
      auto eq = arg.find('=');
      std::string name = arg.substr(2, eq == std::string::npos ? eq : eq - 2);
      if (eq != std::string::npos)
        value = arg.substr(eq + 1);
      opt = custom_options_.cli_long_name_lookup(name);
      if (opt == nullptr)
        opt = custom_options_.qualified_name_lookup(name);
      if (opt == nullptr)
        return tool.unrecognized_option(arg);
      shown.append("--").append(name);
      if (!opt->is_flag() && !value) {
        if (i + 1 >= argc)
          return tool.missing_argument(shown);
        value = argv[++i];
      }
    } else {
      opt = custom_options_.cli_short_name_lookup(arg[1]);
      if (opt == nullptr)
        return tool.unrecognized_option(arg.substr(0, 2));
      shown = arg.substr(0, 2);
      if (opt->is_flag()) {
        if (arg.size() > 2) // no bundling: "-sx" is not "-s -x"
          return tool.unrecognized_option(arg);
      } else if (arg.size() > 2) {
        value = arg.substr(2);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return tool.missing_argument(shown);
      }
    }
    if (value && !opt->parse(*value))
      return tool.bad_value(shown, *value, expected_text(*opt));
    std::string normal = "--";
    normal.append(cli_name(*opt));
    if (value)
      normal.append("=").append(*value);
    args.emplace_back(std::move(normal));
  }
  // Positionals do not go through CAF: one starting with '-' (after "--")
  // would be taken for an option.
  if (auto err = parse(std::move(args)))
    return tool.usage_error(to_string(err));
  remainder = std::move(positional);
  if (cli_helptext_printed) // CAF's --long-help or --dump-config
    return cli::exit_success;
  if (auto text = apply_log_options(); !text.empty())
    return tool.usage_error(text);
  return std::nullopt;
}

} // namespace actio
