// The metrics registry and its text (actors/metrics.hpp): exactly the
// Prometheus text exposition format 0.0.4 — HELP and TYPE once per family,
// families sorted, label values and help texts escaped — and the same text
// read back by the reference parser (python3-prometheus-client).

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actio/actors/metrics.hpp"
#include "support/prometheus.hpp"

using namespace actio;

namespace {

TEST(metrics_registry, renders_counters_and_gauges_exactly) {
  metrics::registry reg;
  reg.counter("actio_b_total", "Things counted", {{"kind", "x"}}).add(3);
  reg.counter("actio_b_total", "Things counted", {{"kind", "y"}}).add();
  reg.gauge("actio_a", "A level").set(-2);
  EXPECT_EQ(reg.render(), "# HELP actio_a A level\n"
                          "# TYPE actio_a gauge\n"
                          "actio_a -2\n"
                          "# HELP actio_b_total Things counted\n"
                          "# TYPE actio_b_total counter\n"
                          "actio_b_total{kind=\"x\"} 3\n"
                          "actio_b_total{kind=\"y\"} 1\n");
}

TEST(metrics_registry, same_name_and_labels_is_the_same_series) {
  metrics::registry reg;
  auto& a = reg.counter("actio_c_total", "C", {{"k", "1"}});
  auto& b = reg.counter("actio_c_total", "C", {{"k", "1"}});
  auto& other = reg.counter("actio_c_total", "C", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  a.add(2);
  b.add(5);
  EXPECT_EQ(a.value(), 7u);
  EXPECT_EQ(other.value(), 0u);
  auto& g = reg.gauge("actio_g", "G");
  g.add(5);
  g.add(-7);
  EXPECT_EQ(g.value(), -2);
}

TEST(metrics_registry, escapes_label_values_and_help) {
  metrics::registry reg;
  // Label values: backslash, double quote and line feed are escaped.
  reg.counter("actio_e_total", "Help with \\ and\nnewline and \"quotes\"",
              {{"path", "a\\b\"c\nd"}, {"empty", ""}})
    .add(1);
  EXPECT_EQ(reg.render(),
            "# HELP actio_e_total Help with \\\\ and\\nnewline and \"quotes\"\n"
            "# TYPE actio_e_total counter\n"
            "actio_e_total{path=\"a\\\\b\\\"c\\nd\",empty=\"\"} 1\n");
  EXPECT_EQ(metrics::series_name("x", {}), "x");
  EXPECT_EQ(metrics::series_name("x", {{"a", "1"}, {"b", "2"}}),
            "x{a=\"1\",b=\"2\"}");
}

TEST(metrics_registry, writes_values_in_go_float_syntax) {
  metrics::writer w;
  w.gauge("actio_v", "V", {{"v", "int"}}, 42);
  w.gauge("actio_v", "V", {{"v", "frac"}}, 0.25);
  w.gauge("actio_v", "V", {{"v", "sum"}}, 0.1 + 0.2); // shortest round trip
  w.gauge("actio_v", "V", {{"v", "small"}}, 1.5e-7);
  w.gauge("actio_v", "V", {{"v", "nan"}}, std::numeric_limits<double>::quiet_NaN());
  w.gauge("actio_v", "V", {{"v", "inf"}}, std::numeric_limits<double>::infinity());
  w.gauge("actio_v", "V", {{"v", "-inf"}}, -std::numeric_limits<double>::infinity());
  w.counter("actio_big_total", "Big", {}, 18446744073709551615.0);
  EXPECT_EQ(w.text(), "# HELP actio_big_total Big\n"
                      "# TYPE actio_big_total counter\n"
                      "actio_big_total 1.8446744073709552e+19\n"
                      "# HELP actio_v V\n"
                      "# TYPE actio_v gauge\n"
                      "actio_v{v=\"int\"} 42\n"
                      "actio_v{v=\"frac\"} 0.25\n"
                      "actio_v{v=\"sum\"} 0.30000000000000004\n"
                      "actio_v{v=\"small\"} 1.5e-07\n"
                      "actio_v{v=\"nan\"} NaN\n"
                      "actio_v{v=\"inf\"} +Inf\n"
                      "actio_v{v=\"-inf\"} -Inf\n");
}

TEST(metrics_registry, collectors_add_samples_until_removed) {
  metrics::registry reg;
  reg.counter("actio_z_total", "Z").add(1);
  auto id = reg.add_collector([](metrics::writer& w) {
    w.gauge("actio_q", "Queue", {{"q", "in"}}, 4);
    w.counter("actio_z_total", "Z", {{"from", "collector"}}, 9);
  });
  auto text = reg.render([](metrics::writer& w) { w.gauge("actio_extra", "E", {}, 1); });
  EXPECT_EQ(text, "# HELP actio_extra E\n"
                  "# TYPE actio_extra gauge\n"
                  "actio_extra 1\n"
                  "# HELP actio_q Queue\n"
                  "# TYPE actio_q gauge\n"
                  "actio_q{q=\"in\"} 4\n"
                  "# HELP actio_z_total Z\n"
                  "# TYPE actio_z_total counter\n"
                  "actio_z_total 1\n"
                  "actio_z_total{from=\"collector\"} 9\n");
  reg.remove_collector(id);
  EXPECT_EQ(reg.render(), "# HELP actio_z_total Z\n"
                          "# TYPE actio_z_total counter\n"
                          "actio_z_total 1\n");
}

TEST(metrics_registry, empty_registry_renders_nothing) {
  metrics::registry reg;
  EXPECT_EQ(reg.render(), "");
}

TEST(metrics_registry, counters_add_up_across_threads) {
  metrics::registry reg;
  auto& c = reg.counter("actio_t_total", "T");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c] {
      for (int i = 0; i < 100000; ++i)
        c.add();
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), 400000u);
}

TEST(metrics_registry, the_reference_parser_reads_the_text_back) {
  if (!test::prometheus::available())
    GTEST_SKIP() << "/usr/bin/python3 has no prometheus_client: install "
                    "Debian's python3-prometheus-client (./actio test does)";
  metrics::registry reg;
  reg.counter("actio_p_total", "Help \\ with\nescapes", {{"path", "a\\b\"c\nd"}})
    .add(7);
  reg.gauge("actio_level", "Level", {{"x", "1"}, {"y", "ü"}}).set(-3);
  auto r = test::prometheus::parse(reg.render([](metrics::writer& w) {
    w.gauge("actio_ratio", "Ratio", {}, 0.5);
  }));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.type_of("actio_p"), "counter");
  EXPECT_EQ(r.type_of("actio_level"), "gauge");
  EXPECT_EQ(r.sum("actio_p_total", {{"path", "a\\b\"c\nd"}}), 7);
  EXPECT_EQ(r.sum("actio_level", {{"x", "1"}, {"y", "ü"}}), -3);
  EXPECT_EQ(r.sum("actio_ratio"), 0.5);
}

} // namespace
