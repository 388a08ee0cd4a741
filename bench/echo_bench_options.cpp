// actio-echo-bench: the command line (see echo_bench.hpp).

#include "echo_bench.hpp"

#include "actio/actors/cli/args.hpp"

namespace echo_bench {

const actio::cli::tool tool{prog, "",
                            "Echo load generator: runs actio-echo and the baseline "
                            "servers (actio-epoll-echo,\n"
                            "actio-uring-echo, actio-uv-echo, actio-tokio-echo; next "
                            "to this\nprogram) and compares their throughput, "
                            "latency and CPU per message."};

namespace {

void usage() {
  tool.print_help(
               "  --connections N    connections (default 100)\n"
               "  --depth D          messages in flight per connection (default 1)\n"
               "  --size S           bytes per message (default 64)\n"
               "  --duration T       measured seconds per server (default 5)\n"
               "  --warmup W         warm-up seconds (default 1)\n"
               "  --rounds R         split each server's T seconds into R rounds, each\n"
               "                     visiting every server (default 5)\n"
               "  --server-args \"A\"  extra whitespace-separated args for actio-echo\n"
               "  --also-args \"B\"    also run a second actio-echo (\"actio+\") with A and B,\n"
               "                     in the same alternating rounds, and print its ratios\n"
               "                     to actio (e.g. --also-args \"--metrics-port 0\")\n"
               "  --also-server PATH run actio+ from PATH (e.g. another build's actio-echo);\n"
               "                     alone, actio+ gets the same args as actio\n"
               "  --baselines LIST   comma-separated baselines to run: epoll (plain epoll\n"
               "                     loop), uring (plain io_uring loop), uv (libuv),\n"
               "                     tokio (tokio current_thread, Rust)\n"
               "                     (default: every one built next to this program)\n"
               "  --only actio|baseline  run actio-echo only, or the baselines only\n"
               "  --pin | --no-pin   pin client/servers to CPUs (default: on if >= 2 CPUs)\n");
}

long long parse_int(const std::string& opt, const std::string& s, long long lo, long long hi) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < lo || v > hi)
    std::exit(tool.bad_value(opt, s, actio::cli::integer_range(lo, hi)));
  return v;
}

double parse_seconds(const std::string& opt, const std::string& s, double lo) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || *end != '\0' || !(v >= lo) || v > 3600)
    std::exit(tool.bad_value(opt, s, actio::cli::number_range(lo, 3600, "seconds")));
  return v;
}

// "epoll,uring": the names, checked, in the order of `baselines`.
std::vector<std::string> parse_baselines(const std::string& opt, const std::string& v) {
  std::vector<std::string> given;
  std::istringstream in(v);
  for (std::string name; std::getline(in, name, ',');)
    given.push_back(name);
  std::vector<std::string> out;
  for (const std::string& name : given)
    if (std::none_of(std::begin(baselines), std::end(baselines),
                     [&](const Baseline& b) { return name == b.name; }))
      std::exit(tool.bad_value(opt, v, "a comma-separated list of epoll, uring, uv, tokio"));
  for (const Baseline& b : baselines)
    if (std::find(given.begin(), given.end(), b.name) != given.end())
      out.push_back(b.name);
  if (out.empty())
    std::exit(tool.bad_value(opt, v, "a comma-separated list of epoll, uring, uv, tokio"));
  return out;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

} // namespace

// Accepts both `--opt value` and `--opt=value`; for repeated options the last
// one wins (so wrapper scripts can put defaults first and forward "$@").
Options parse_args(int argc, char** argv) {
  Options opt;
  for (actio::cli::args a{tool, argc, argv}; a.next();) {
    a.exit_on_help_or_version(usage);
    const std::string& arg = a.arg();
    auto need_value = [&a] { return a.value(); };
    if (arg == "--connections") {
      opt.connections = static_cast<int>(parse_int(arg, need_value(), 1, 100000));
    } else if (arg == "--depth") {
      opt.depth = static_cast<int>(parse_int(arg, need_value(), 1, 4096));
    } else if (arg == "--size") {
      opt.size = static_cast<size_t>(parse_int(arg, need_value(), 1, 64LL << 20));
    } else if (arg == "--duration") {
      opt.duration = parse_seconds(arg, need_value(), 0.1);
    } else if (arg == "--warmup") {
      opt.warmup = parse_seconds(arg, need_value(), 0.0);
    } else if (arg == "--rounds") {
      opt.rounds = static_cast<int>(parse_int(arg, need_value(), 1, 1000));
    } else if (arg == "--server-args") {
      opt.server_args = split_words(need_value());
    } else if (arg == "--also-args") {
      opt.also_args = split_words(need_value());
    } else if (arg == "--also-server") {
      opt.also_server = need_value();
      if (access(opt.also_server.c_str(), X_OK) != 0)
        std::exit(tool.bad_value(arg, opt.also_server, "an executable file"));
    } else if (arg == "--baselines") {
      opt.baseline_names = parse_baselines(arg, need_value());
    } else if (arg == "--only") {
      std::string v = need_value();
      if (v == "actio") {
        opt.run_actio = true;
        opt.run_baselines = false;
      } else if (v == "baseline") {
        opt.run_actio = false;
        opt.run_baselines = true;
      } else {
        std::exit(tool.bad_value(arg, v, "'actio' or 'baseline'"));
      }
    } else if (arg == "--pin" && !a.has_inline_value()) {
      opt.pin = true;
    } else if (arg == "--no-pin" && !a.has_inline_value()) {
      opt.pin = false;
    } else {
      a.reject();
    }
  }
  return opt;
}

} // namespace echo_bench
