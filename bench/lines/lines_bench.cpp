// actio-lines-bench: how fast `lines()` splits text, against a plain memchr
// loop over the same bytes, in the same run.
//
// Measures, ROUNDS times each, interleaved (memchr, codec, pipeline, memchr,
// ...), over one in-memory corpus (random line lengths 0-200, ~1/8 CRLF):
//   memchr    a memchr loop counting lines (the baseline)
//   codec     io::lines_codec over CHUNK-byte slices, one line_batch each
//   pipeline  memory source (CHUNK-byte chunks) -> spawn_lines -> a sink
//             counting lines, i.e. the whole CAF 0.17 stream path
// and prints median / best MiB/s per variant and the ratio of medians to
// the baseline (issue 4 target: pipeline >= 0.5x), by wall clock and per
// second of process CPU time (all threads: the pipeline uses two). The three variants must
// agree on the number of lines and of line bytes, else the exit status is 1.
//
// Run: build/bin/actio-lines-bench [--size MiB] [--rounds N] [--chunk BYTES]

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actio/actors/config.hpp"
#include "actio/actors/cli/values.hpp"
#include "actio/io/lines.hpp"
#include "actio/io/sources.hpp"
#include "actio/io/stages.hpp"
#include "actio/io/stream.hpp"

namespace {

using namespace actio;
using clock_type = std::chrono::steady_clock;

struct tally {
  uint64_t lines = 0;
  uint64_t bytes = 0; // line bytes without terminators
  bool operator==(const tally&) const = default;
};

struct options {
  size_t mib = 256;
  int rounds = 5;
  size_t chunk = 64 * 1024;
};

const actio::cli::tool tool{"actio-lines-bench", "",
                            "lines() throughput vs a plain memchr loop over "
                            "the same in-memory corpus,\ninterleaved rounds, "
                            "medians."};

int usage() {
  return tool.print_help(
    "  --size MiB      corpus size (default 256)\n"
    "  --rounds N      rounds per variant (default 5)\n"
    "  --chunk BYTES   chunk size for codec and pipeline (default 65536)\n");
}

std::vector<uint8_t> make_corpus(size_t size) {
  std::mt19937_64 gen{42};
  std::vector<uint8_t> text;
  text.reserve(size + 256);
  while (text.size() < size) {
    auto len = gen() % 201;
    for (size_t i = 0; i < len; ++i)
      text.push_back(static_cast<uint8_t>(' ' + gen() % 95));
    if (gen() % 8 == 0)
      text.push_back('\r');
    text.push_back('\n');
  }
  text.resize(size); // may cut the last line: a final line without newline
  return text;
}

/// Baseline: lines as (start, length) found with memchr, '\r' stripped.
tally memchr_lines(const std::vector<uint8_t>& text) {
  tally t;
  auto* pos = text.data();
  auto* end = pos + text.size();
  while (pos < end) {
    auto* nl = static_cast<const uint8_t*>(std::memchr(pos, '\n', end - pos));
    if (nl == nullptr) {
      t.lines += 1;
      t.bytes += end - pos;
      break;
    }
    auto len = static_cast<uint64_t>(nl - pos);
    if (len > 0 && nl[-1] == '\r')
      --len;
    t.lines += 1;
    t.bytes += len;
    pos = nl + 1;
  }
  return t;
}

tally codec_lines(const std::vector<uint8_t>& text, size_t chunk) {
  io::lines_codec codec;
  io::line_batch out; // as the stage does: one batch per chunk
  tally t;
  auto count = [&] {
    t.lines += out.size();
    t.bytes += out.text.size();
    out = io::line_batch{};
  };
  for (size_t off = 0; off < text.size(); off += chunk) {
    auto n = std::min(chunk, text.size() - off);
    if (auto err = codec.push(text.data() + off, n, out)) {
      std::cerr << "codec error\n";
      std::exit(1);
    }
    count();
  }
  if (auto err = codec.finish(out)) {
    std::cerr << "codec error\n";
    std::exit(1);
  }
  count();
  return t;
}

/// A sink counting the lines of a line_batch stream.
caf::actor spawn_line_counter(caf::actor_system& sys, std::promise<tally>& done) {
  return sys.spawn(
    [&done](caf::event_based_actor* self, int) -> caf::behavior {
      return {
        [=, &done](caf::stream<io::line_batch> in) {
          return caf::attach_stream_sink(
            self, in, [](tally&) {},
            [](tally& t, io::line_batch b) {
              t.lines += b.size();
              t.bytes += b.text.size();
            },
            [=, &done](tally& t, const caf::error& err) {
              if (err) {
                std::cerr << "pipeline error: " << caf::to_string(err) << '\n';
                std::exit(1);
              }
              done.set_value(t);
              self->quit();
            });
        },
      };
    },
    0);
}

tally pipeline_lines(caf::actor_system& sys, std::vector<byte_buffer> chunks) {
  std::promise<tally> done;
  auto fut = done.get_future();
  auto sink = spawn_line_counter(sys, done);
  io::spawn_memory_source(sys, std::move(chunks), sink * io::spawn_lines(sys));
  return fut.get();
}

std::vector<byte_buffer> cut(const std::vector<uint8_t>& text, size_t chunk) {
  std::vector<byte_buffer> chunks;
  for (size_t off = 0; off < text.size(); off += chunk) {
    auto n = std::min(chunk, text.size() - off);
    chunks.emplace_back(text.begin() + off, text.begin() + off + n);
  }
  return chunks;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string val;
    if (arg == "--help" || arg == "-h")
      return usage();
    if (arg == "--version")
      return tool.print_version();
    if (arg.empty() || arg[0] != '-')
      return tool.usage_error("extra operand '" + arg + "'");
    auto name = arg.substr(0, arg.find('='));
    if (name != "--size" && name != "--rounds" && name != "--chunk")
      return tool.unrecognized_option(arg);
    if (auto eq = arg.find('='); eq != std::string::npos)
      val = arg.substr(eq + 1);
    else if (i + 1 < argc)
      val = argv[++i];
    else
      return tool.missing_argument(name);
    constexpr long long most = 1LL << 30;
    auto num = actio::cli::parse_integer(val, 1, most);
    if (!num)
      return tool.bad_value(name, val, actio::cli::integer_range(1, most));
    if (name == "--size")
      opt.mib = static_cast<size_t>(*num);
    else if (name == "--rounds")
      opt.rounds = static_cast<int>(*num);
    else
      opt.chunk = static_cast<size_t>(*num);
  }
  auto text = make_corpus(opt.mib * 1024 * 1024);
  auto expected = memchr_lines(text);
  std::printf("corpus: %zu MiB, %llu lines, chunk %zu bytes, %d rounds "
              "(interleaved; medians)\n",
              opt.mib, static_cast<unsigned long long>(expected.lines),
              opt.chunk, opt.rounds);
  actio::config cfg;
  caf::actor_system sys{cfg};
  const char* names[] = {"memchr", "codec", "pipeline"};
  std::vector<double> mibs[3];
  std::vector<double> cpu_mibs[3]; // per second of CPU (all threads)
  bool ok = true;
  for (int r = 0; r < opt.rounds; ++r) {
    for (int v = 0; v < 3; ++v) {
      std::vector<byte_buffer> chunks;
      if (v == 2)
        chunks = cut(text, opt.chunk); // prepared outside the timing
      auto start = clock_type::now();
      auto cpu_start = process_cpu_seconds();
      tally t = v == 0   ? memchr_lines(text)
                : v == 1 ? codec_lines(text, opt.chunk)
                         : pipeline_lines(sys, std::move(chunks));
      auto cpu = process_cpu_seconds() - cpu_start;
      std::chrono::duration<double> took = clock_type::now() - start;
      mibs[v].push_back(static_cast<double>(opt.mib) / took.count());
      cpu_mibs[v].push_back(static_cast<double>(opt.mib) / cpu);
      if (!(t == expected)) {
        std::fprintf(stderr, "%s: %llu lines / %llu bytes, expected %llu / %llu\n",
                     names[v], static_cast<unsigned long long>(t.lines),
                     static_cast<unsigned long long>(t.bytes),
                     static_cast<unsigned long long>(expected.lines),
                     static_cast<unsigned long long>(expected.bytes));
        ok = false;
      }
    }
  }
  auto base = median(mibs[0]);
  auto cpu_base = median(cpu_mibs[0]);
  std::printf("wall clock:\n");
  for (int v = 0; v < 3; ++v)
    std::printf("  %-9s median %8.1f MiB/s  best %8.1f MiB/s  ratio %.2fx\n",
                names[v], median(mibs[v]),
                *std::max_element(mibs[v].begin(), mibs[v].end()),
                median(mibs[v]) / base);
  std::printf("per CPU second (all threads; less sensitive to other load):\n");
  for (int v = 0; v < 3; ++v)
    std::printf("  %-9s median %8.1f MiB/s  ratio %.2fx\n", names[v],
                median(cpu_mibs[v]), median(cpu_mibs[v]) / cpu_base);
  std::printf("ratio pipeline/memchr: %.2f wall, %.2f per CPU second "
              "(target >= 0.5)\n",
              median(mibs[2]) / base, median(cpu_mibs[2]) / cpu_base);
  std::printf("note: figures from a shared, loaded 2-core VM; rounds are "
              "interleaved and medians reported.\n");
  return ok ? 0 : 1;
}
