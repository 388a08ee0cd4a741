#pragma once

// Checks a Prometheus text exposition with the reference parser:
// `prometheus_client.parser.text_string_to_metric_families` of Debian's
// python3-prometheus-client, run by /usr/bin/python3 explicitly (another
// python3 earlier on PATH may lack the module). The samples come back one
// per line, so the assertions are on what the parser understood, not on
// our own reading of the text.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/net_client.hpp"

namespace actio::test::prometheus {

inline constexpr const char* python = "/usr/bin/python3";

/// One sample as the parser read it.
struct sample {
  std::string family; ///< the family's name (a counter's without `_total`)
  std::string type;   ///< "counter", "gauge", ...
  std::string name;   ///< the sample's name (a counter's with `_total`)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct parse_result {
  bool ok = false;
  std::string error; ///< the parser's complaint when not ok
  std::vector<sample> samples;

  /// Whether `s` is named `name` and its labels include `match`.
  static bool matches(const sample& s, const std::string& name,
                      const std::map<std::string, std::string>& match) {
    if (s.name != name)
      return false;
    for (auto& [k, v] : match) {
      auto i = s.labels.find(k);
      if (i == s.labels.end() || i->second != v)
        return false;
    }
    return true;
  }

  /// The sum of the samples named `name` whose labels include `match`.
  double sum(const std::string& name,
             const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (auto& s : samples)
      if (matches(s, name, match))
        total += s.value;
    return total;
  }

  /// Whether a sample named `name` exists.
  bool has(const std::string& name) const {
    for (auto& s : samples)
      if (s.name == name)
        return true;
    return false;
  }

  /// Whether a sample named `name` with labels including `match` exists.
  bool has_labels(const std::string& name,
                  const std::map<std::string, std::string>& match) const {
    for (auto& s : samples)
      if (matches(s, name, match))
        return true;
    return false;
  }

  /// The type of family `family`; "" if absent.
  std::string type_of(const std::string& family) const {
    for (auto& s : samples)
      if (s.family == family)
        return s.type;
    return {};
  }
};

// Reads the file named by argv[1]; prints per sample
// "S<TAB>family<TAB>type<TAB>name<TAB>value" and then one line
// "L<TAB>key<TAB>value" per label (names and values hex-encoded UTF-8, so
// any escaped character survives); "ERR<TAB>text" and exit 1 on a parse
// failure; exit 3 if the module is missing.
inline constexpr const char* script = R"PY(
import sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    print("ERR\tno prometheus_client: %s" % e)
    sys.exit(3)
text = open(sys.argv[1], encoding="utf-8").read()
h = lambda s: s.encode("utf-8").hex()
try:
    out = []
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            out.append("S\t%s\t%s\t%s\t%r" % (h(f.name), f.type, h(s.name), float(s.value)))
            for k, v in sorted(s.labels.items()):
                out.append("L\t%s\t%s" % (h(k), h(v)))
except Exception as e:
    print("ERR\t%s: %s" % (type(e).__name__, e))
    sys.exit(1)
print("\n".join(out))
print("END")
)PY";

inline std::string unhex(const std::string& s) {
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out += static_cast<char>(std::stoi(s.substr(i, 2), nullptr, 16));
  return out;
}

/// Whether /usr/bin/python3 has the module (else the tests skip, saying so).
inline bool available() {
  auto child = spawn_process(python, {"-c", "import prometheus_client.parser"},
                             {.merge_stderr = true});
  child.read_all(30s);
  return child.stop(0, 30s) == 0;
}

/// Parses `text` with the reference parser.
inline parse_result parse(const std::string& text) {
  parse_result r;
  char path[] = "/tmp/actio-metrics-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) {
    r.error = "mkstemp failed";
    return r;
  }
  ::close(fd);
  {
    std::ofstream f{path, std::ios::binary};
    f << text;
  }
  auto child = spawn_process(python, {"-c", script, path}, {.merge_stderr = true});
  auto out = child.read_all(60s);
  auto status = child.stop(0, 30s);
  ::unlink(path);
  std::istringstream lines{out};
  std::string line;
  bool ended = false;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields{line};
    std::string field;
    while (std::getline(fields, field, '\t'))
      f.push_back(field);
    if (f.size() == 5 && f[0] == "S")
      r.samples.push_back({unhex(f[1]), f[2], unhex(f[3]), {}, std::stod(f[4])});
    else if (f.size() == 3 && f[0] == "L" && !r.samples.empty())
      r.samples.back().labels[unhex(f[1])] = unhex(f[2]);
    else if (line == "END")
      ended = true;
    else
      r.error += line + "\n";
  }
  r.ok = status == 0 && ended;
  if (!r.ok && r.error.empty())
    r.error = "python exit status " + std::to_string(status);
  return r;
}

} // namespace actio::test::prometheus
