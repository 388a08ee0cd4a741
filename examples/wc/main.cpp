// actio-wc: counts lines, words and bytes through Actio's stream stages.
//
// Shows: a file source (reads through the file service, so through the
// driver) streaming chunks into a counting sink, with CAF's credit-based
// backpressure; errors arriving at the sink as typed errors.
//
// Run:   build/bin/actio-wc [-l] [-w] [-c] [--backend=uring|epoll]
//                           [--tcp HOST:PORT]... [FILE...]
//        (no FILE, or "-": standard input)
// Try:   build/bin/actio-wc README.md; printf 'a b\nc' | build/bin/actio-wc
//        nc -l 7001 < README.md & build/bin/actio-wc --tcp 127.0.0.1:7001
//
// --tcp connects (net::tcp_connect) and counts what the peer sends until it
// closes: the connection speaks the endpoint protocol (net::passive) and an
// endpoint source streams it into the same counting sink as files.
//
// Output is byte-for-byte GNU wc's (coreutils 9) in the C locale (words as
// in io/word_count.hpp; multibyte spaces of UTF-8 locales are not special);
// column widths follow wc's rules; a missing file is reported on stderr, the other files
// are still counted, and the exit status is 1.

#include <malloc.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <future>
#include <iostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/drivers/errc.hpp"
#include "actio/io/endpoint_stream.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"
#include "actio/net/atoms.hpp"
#include "actio/net/passive.hpp"
#include "actio/net/tcp_connect.hpp"

namespace {

using namespace actio;

/// A file name ("-": standard input) or, with `tcp`, a HOST:PORT.
struct input {
  std::string name;
  bool tcp = false;
};

struct options {
  bool lines = false, words = false, bytes = false;
  std::string backend = "auto";
  std::vector<input> files;
};

const cli::tool tool{"actio-wc", "[FILE]...",
                     "Print newline, word and byte counts for each FILE (and "
                     "each --tcp peer),\nand a total line if more than one. "
                     "With no FILE, or when FILE is -,\nread standard input."};

int help() {
  return tool.print_help(
    cli::option_line("-l, --lines", "print the newline counts")
    + cli::option_line("-w, --words", "print the word counts")
    + cli::option_line("-c, --bytes", "print the byte counts")
    + cli::option_line("--backend=NAME", "I/O backend: auto (default), uring, "
                                          "epoll, aio")
    + cli::option_line("--tcp=HOST:PORT",
                       "connect to HOST:PORT and count the bytes the peer")
    + cli::option_line("", "sends until it closes; the line is named")
    + cli::option_line("", "HOST:PORT (IPv6: [::1]:PORT); mixes with FILEs"));
}

bool split_host_port(const std::string& text, std::string& host,
                     uint16_t& port);

/// Parses wc-style flags (combinable: -lw). Returns an exit status to stop
/// with (usage error, --help, --version).
std::optional<int> parse(int argc, char** argv, options& opt) {
  bool only_files = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_files || arg == "-" || arg.empty() || arg[0] != '-') {
      opt.files.push_back({arg});
    } else if (arg == "--tcp" || arg.rfind("--tcp=", 0) == 0) {
      if (arg == "--tcp" && i + 1 == argc)
        return tool.missing_argument("--tcp");
      std::string where = arg == "--tcp" ? argv[++i] : arg.substr(6);
      std::string host;
      uint16_t port = 0;
      if (!split_host_port(where, host, port))
        return tool.bad_value("--tcp", where, "HOST:PORT (port 1-65535)");
      opt.files.push_back({where, true});
    } else if (arg == "--") {
      only_files = true;
    } else if (arg == "--help" || arg == "-h") {
      return help();
    } else if (arg == "--version") {
      return tool.print_version();
    } else if (arg == "--lines") {
      opt.lines = true;
    } else if (arg == "--words") {
      opt.words = true;
    } else if (arg == "--bytes") {
      opt.bytes = true;
    } else if (arg == "--backend" || arg.rfind("--backend=", 0) == 0) {
      if (arg == "--backend" && i + 1 == argc)
        return tool.missing_argument("--backend");
      opt.backend = arg == "--backend" ? argv[++i] : arg.substr(10);
      if (opt.backend.empty())
        return tool.bad_value("--backend", "", "a backend name");
    } else if (arg[1] != '-') {
      for (auto c : arg.substr(1)) {
        if (c == 'l')
          opt.lines = true;
        else if (c == 'w')
          opt.words = true;
        else if (c == 'c')
          opt.bytes = true;
        else
          return tool.unrecognized_option(std::string{'-', c});
      }
    } else {
      return tool.unrecognized_option(arg);
    }
  }
  if (!opt.lines && !opt.words && !opt.bytes)
    opt.lines = opt.words = opt.bytes = true;
  return std::nullopt;
}

/// wc's column width: 1 for a single count of a single input; else the
/// digits of the regular files' total size, at least 7 when an input is
/// not a regular file (a pipe, a terminal, a directory).
int number_width(const options& opt, const std::vector<input>& inputs) {
  int counts = int{opt.lines} + int{opt.words} + int{opt.bytes};
  if (inputs.size() == 1 && counts == 1)
    return 1;
  int minimum = 1;
  uint64_t total = 0;
  for (auto& [name, tcp] : inputs) {
    if (tcp) {
      minimum = 7; // a stream, like a pipe
      continue;
    }
    struct stat st {};
    int rc = name == "-" ? fstat(0, &st) : stat(name.c_str(), &st);
    if (rc != 0)
      continue;
    if (S_ISREG(st.st_mode))
      total += static_cast<uint64_t>(st.st_size);
    else
      minimum = 7;
  }
  int width = 1;
  for (; total >= 10; total /= 10)
    ++width;
  return std::max(width, minimum);
}

void print(const options& opt, int width, const io::word_count& wc,
           const std::string* name) {
  std::string line;
  auto add = [&](uint64_t n) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%*llu", width,
                  static_cast<unsigned long long>(n));
    if (!line.empty())
      line += ' ';
    line += buf;
  };
  if (opt.lines)
    add(wc.lines);
  if (opt.words)
    add(wc.words);
  if (opt.bytes)
    add(wc.bytes);
  if (name != nullptr) {
    line += ' ';
    line += *name;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

/// The OS reason at the end of an error text ("open /x: No such file...").
std::string reason_of(const caf::error& err) {
  auto text = describe(err);
  if (!text.empty() && text.back() == ')')
    text.pop_back();
  auto pos = text.rfind(": ");
  return pos == std::string::npos ? text : text.substr(pos + 2);
}

/// Splits "HOST:PORT" ("[v6]:PORT"); false if malformed.
bool split_host_port(const std::string& text, std::string& host,
                     uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long value = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return false;
  }
  port = static_cast<uint16_t>(value);
  return port != 0;
}

/// Counts what a TCP peer sends: a passive connection, an endpoint source,
/// the wc sink. Returns the counts and the error (connect, reset, ...).
std::pair<io::word_count, caf::error>
count_tcp(caf::actor_system& sys, runtime& rt, const std::string& where) {
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(where, host, port))
    return {{}, make_actio_error(errc::invalid_argument,
                                 "address: expected HOST:PORT")};
  auto conn = net::tcp_connect(rt, host, port, net::passive());
  if (!conn)
    return {{}, conn.error()};
  std::promise<std::pair<io::word_count, caf::error>> done;
  auto fut = done.get_future();
  auto sink = io::spawn_wc_sink(sys, [&](const io::word_count& wc,
                                         const caf::error& err) {
    done.set_value({wc, err});
  });
  io::spawn_endpoint_source(sys, *conn, sink);
  auto result = fut.get();
  caf::anon_send(*conn, net::close_atom::value);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  // Every read returns a fresh 128 KiB buffer, freed by the sink on another
  // thread. With glibc's defaults such buffers are mmap'd or trimmed away
  // and each one faults in new zeroed pages (~40% more kernel time on a
  // 1 GiB -l); fixed thresholds keep them reused. At most a few chunks are
  // alive at a time, so what the heap keeps stays small.
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  options opt;
  if (auto status = parse(argc, argv, opt))
    return *status;
  bool named = !opt.files.empty();
  auto inputs = named ? opt.files : std::vector<input>{{"-"}};
  auto width = number_width(opt, inputs);
  actio::config cfg;
  caf::put(cfg.content, "actio.io.backend", opt.backend);
  caf::actor_system sys{cfg};
  auto rt = runtime::start(sys);
  if (!rt) {
    std::cerr << "actio-wc: " << describe(rt.error()) << '\n';
    return 1;
  }
  auto files = io::spawn_file_service(**rt);
  int status = 0;
  io::word_count total;
  for (auto& [name, tcp] : inputs) {
    io::word_count wc;
    caf::error err;
    if (tcp) {
      std::tie(wc, err) = count_tcp(sys, **rt, name);
    } else {
      std::promise<std::pair<io::word_count, caf::error>> done;
      auto fut = done.get_future();
      auto sink = io::spawn_wc_sink(sys, [&](const io::word_count& wc,
                                             const caf::error& err) {
        done.set_value({wc, err});
      }, opt.words); // without -w: the vectorised newline count
      io::spawn_file_source(sys, files, name, sink);
      std::tie(wc, err) = fut.get();
    }
    if (err) {
      std::fflush(stdout);
      std::cerr << "actio-wc: " << name << ": " << reason_of(err) << '\n';
      status = 1;
      if (tcp)
        continue; // no counts for a peer we could not (fully) read
      // Like wc: a file that opened but could not be read (a directory)
      // still gets its (zero) line.
      if (describe(err).find("open ") != std::string::npos)
        continue;
    }
    total.lines += wc.lines;
    total.words += wc.words;
    total.bytes += wc.bytes;
    print(opt, width, wc, named ? &name : nullptr);
  }
  if (inputs.size() > 1) {
    std::string label = "total";
    print(opt, width, total, &label);
  }
  std::fflush(stdout);
  caf::anon_send_exit(files, caf::exit_reason::user_shutdown);
  (*rt)->shutdown();
  return status;
}
