#pragma once

/// Metrics: counters and gauges with labels, rendered in the Prometheus
/// text exposition format 0.0.4 (what `/metrics` serves; http/metrics.hpp).
///
/// ```
/// auto& reg = actio::metrics::registry::global();
/// auto& served = reg.counter("actio_kv_commands_total", "Commands by name",
///                            {{"command", "get"}});
/// served.add();                          // any thread: a relaxed atomic add
/// reg.add_collector([&](actio::metrics::writer& w) {  // values read at scrape
///   w.gauge("actio_queue_length", "Items queued", {}, q.size());
/// });
/// std::string text = reg.render();
/// ```
///
/// Values written often live in `counter`/`gauge` objects (relaxed atomics:
/// the hot path pays one uncontended atomic add, never a lock). Values that
/// already exist elsewhere (driver counters, listener counts) are read by
/// a collector when scraped, so the hot path pays nothing more. Looking a
/// series up by name and labels takes a lock: do it once and keep the
/// reference (series live as long as the registry).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace actio::metrics {

/// Label names and values of one series, e.g. {{"status", "200"}}.
using labels = std::vector<std::pair<std::string, std::string>>;

/// A total that only grows (Prometheus `counter`).
class counter {
public:
  void add(uint64_t n = 1) noexcept {
    v_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept {
    return v_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<uint64_t> v_{0};
};

/// A value that goes up and down (Prometheus `gauge`).
class gauge {
public:
  void set(int64_t v) noexcept {
    v_.store(v, std::memory_order_relaxed);
  }
  void add(int64_t n) noexcept {
    v_.fetch_add(n, std::memory_order_relaxed);
  }
  int64_t value() const noexcept {
    return v_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<int64_t> v_{0};
};

/// Collects samples by family and writes the exposition text: `# HELP`,
/// `# TYPE`, then one line per series, families sorted by name. A family
/// named twice keeps its first help text.
class writer {
public:
  void counter(std::string_view name, std::string_view help,
               const labels& l, double value);
  void gauge(std::string_view name, std::string_view help, const labels& l,
             double value);

  /// The text (format 0.0.4).
  std::string text() const;

private:
  struct family {
    std::string help;
    const char* type;
    std::string lines;
  };
  void sample(std::string_view name, std::string_view help, const char* type,
              const labels& l, double value);
  std::map<std::string, family, std::less<>> families_;
};

/// The series of a process, and collectors that add values at scrape time.
/// Thread-safe.
class registry {
public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// The process's registry: the library's series (HTTP, files, node
  /// links) and the tools' go here.
  static registry& global();

  /// The counter `name{labels}`, made on first use. @pre `name` is a valid
  /// metric name, not used for a gauge
  metrics::counter& counter(std::string_view name, std::string_view help,
                            const labels& l = {});

  /// The gauge `name{labels}`, made on first use.
  metrics::gauge& gauge(std::string_view name, std::string_view help,
                        const labels& l = {});

  /// Adds `f`, called with the writer at every render, until removed. It
  /// runs under the registry's lock: it must not make series.
  /// @returns its id for `remove_collector`
  uint64_t add_collector(std::function<void(writer&)> f);
  void remove_collector(uint64_t id);

  /// The whole exposition text; `extra` adds samples gathered by the caller
  /// (say, answers of actors asked for their counts).
  std::string render(const std::function<void(writer&)>& extra = {}) const;

private:
  struct series;
  series& find_or_add(std::string_view name, std::string_view help,
                      const labels& l, bool is_counter);
  mutable std::mutex mtx_;
  std::vector<std::unique_ptr<series>> series_;
  std::map<uint64_t, std::function<void(writer&)>> collectors_;
  uint64_t next_id_ = 0;
};

/// `name{k="v",...}` with label values escaped as the format wants.
std::string series_name(std::string_view name, const labels& l);

} // namespace actio::metrics
