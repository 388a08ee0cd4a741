#pragma once

// A terminal progress bar for actio-copy: bytes, rate, ETA; redrawn at most
// ten times a second. Without a total (a pipe, a device, a /proc file): bytes
// and rate only.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

inline std::string format_rate(double bytes, double secs) {
  return format_bytes(secs > 0 ? bytes / secs : 0) + "/s";
}

inline std::string format_duration(double secs) {
  char buf[32];
  if (secs < 60)
    std::snprintf(buf, sizeof(buf), "%.2f s", secs);
  else
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(secs) / 60,
                  static_cast<int>(secs) % 60);
  return buf;
}

class progress {
public:
  using clock = std::chrono::steady_clock;

  explicit progress(std::ostream& out) : out_(out) {
  }

  /// `total` 0: unknown.
  void start(uint64_t total) {
    total_ = total;
    begin_ = clock::now();
    draw(0);
  }

  void update(uint64_t done) {
    auto now = clock::now();
    if (now - last_ < std::chrono::milliseconds{100}
        && (total_ == 0 || done < total_))
      return;
    last_ = now;
    draw(done);
  }

  void finish() {
    out_ << '\n';
    out_.flush();
  }

private:
  void draw(uint64_t done) {
    constexpr int width = 30;
    auto secs = std::chrono::duration<double>(clock::now() - begin_).count();
    if (total_ == 0) {
      out_ << "\r" << format_bytes(done) << "  " << format_rate(done, secs)
           << "   ";
      out_.flush();
      return;
    }
    // A file that grew while copying goes past its total: a full bar.
    double frac = std::min(1.0, static_cast<double>(done) / total_);
    double rate = secs > 0 ? done / secs : 0;
    double eta = rate > 0 && done < total_ ? (total_ - done) / rate : 0;
    std::string bar(width, ' ');
    for (int i = 0; i < static_cast<int>(frac * width); ++i)
      bar[i] = '#';
    char pct[8];
    std::snprintf(pct, sizeof(pct), "%3d%%", static_cast<int>(frac * 100));
    out_ << "\r[" << bar << "] " << pct << ' ' << format_bytes(done) << " / "
         << format_bytes(total_) << "  " << format_rate(done, secs)
         << "  ETA " << format_duration(eta) << "   ";
    out_.flush();
  }

  std::ostream& out_;
  uint64_t total_ = 0;
  clock::time_point begin_;
  clock::time_point last_;
};
