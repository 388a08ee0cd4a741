// actio-wc: counts lines, words and bytes through Actio's stream stages.
//
// Shows: a file source (reads through the file service, so through the
// driver) streaming chunks into a counting sink, with CAF's credit-based
// backpressure; errors arriving at the sink as typed errors.
//
// Run:   build/bin/actio-wc [-l] [-w] [-c] [--backend=uring|epoll] [FILE...]
//        (no FILE, or "-": standard input)
// Try:   build/bin/actio-wc README.md; printf 'a b\nc' | build/bin/actio-wc
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
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/errc.hpp"
#include "actio/actors/runtime.hpp"
#include "actio/io/file_service.hpp"
#include "actio/io/sinks.hpp"
#include "actio/io/sources.hpp"

namespace {

using namespace actio;

struct options {
  bool lines = false, words = false, bytes = false;
  std::string backend = "auto";
  std::vector<std::string> files;
};

int usage(int status) {
  (status == 0 ? std::cout : std::cerr)
    << "usage: actio-wc [-l] [-w] [-c] [--backend=auto|uring|epoll] [FILE...]\n"
       "  -l, --lines   print the newline counts\n"
       "  -w, --words   print the word counts\n"
       "  -c, --bytes   print the byte counts\n"
       "With no FILE, or when FILE is -, read standard input.\n";
  return status;
}

/// Parses wc-style flags (combinable: -lw). Returns an exit status on error.
std::optional<int> parse(int argc, char** argv, options& opt) {
  bool only_files = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_files || arg == "-" || arg.empty() || arg[0] != '-') {
      opt.files.push_back(arg);
    } else if (arg == "--") {
      only_files = true;
    } else if (arg == "--help") {
      return usage(0);
    } else if (arg == "--lines") {
      opt.lines = true;
    } else if (arg == "--words") {
      opt.words = true;
    } else if (arg == "--bytes") {
      opt.bytes = true;
    } else if (arg.rfind("--backend=", 0) == 0) {
      opt.backend = arg.substr(10);
    } else if (arg[1] != '-') {
      for (auto c : arg.substr(1)) {
        if (c == 'l')
          opt.lines = true;
        else if (c == 'w')
          opt.words = true;
        else if (c == 'c')
          opt.bytes = true;
        else {
          std::cerr << "actio-wc: invalid option -- '" << c << "'\n";
          return usage(1);
        }
      }
    } else {
      std::cerr << "actio-wc: unrecognized option '" << arg << "'\n";
      return usage(1);
    }
  }
  if (!opt.lines && !opt.words && !opt.bytes)
    opt.lines = opt.words = opt.bytes = true;
  return std::nullopt;
}

/// wc's column width: 1 for a single count of a single input; else the
/// digits of the regular files' total size, at least 7 when an input is
/// not a regular file (a pipe, a terminal, a directory).
int number_width(const options& opt, const std::vector<std::string>& inputs) {
  int counts = int{opt.lines} + int{opt.words} + int{opt.bytes};
  if (inputs.size() == 1 && counts == 1)
    return 1;
  int minimum = 1;
  uint64_t total = 0;
  for (auto& name : inputs) {
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
  auto inputs = named ? opt.files : std::vector<std::string>{"-"};
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
  for (auto& name : inputs) {
    std::promise<std::pair<io::word_count, caf::error>> done;
    auto fut = done.get_future();
    auto sink = io::spawn_wc_sink(sys, [&](const io::word_count& wc,
                                           const caf::error& err) {
      done.set_value({wc, err});
    }, opt.words); // without -w: the vectorised newline count
    io::spawn_file_source(sys, files, name, sink);
    auto [wc, err] = fut.get();
    if (err) {
      std::fflush(stdout);
      std::cerr << "actio-wc: " << name << ": " << reason_of(err) << '\n';
      status = 1;
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
