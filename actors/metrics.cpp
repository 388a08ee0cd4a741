#include "actio/actors/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace actio::metrics {

namespace {

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

std::string format_value(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof(buf), "%.0f", v); // integers as integers
    return buf;
  }
  // The shortest text that reads back as the same double (0.25, not
  // 0.25000000000000000), exponent when shorter: what Go's 'g' writes.
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  return std::string(buf, r.ptr);
}

} // namespace

std::string series_name(std::string_view name, const labels& l) {
  std::string out{name};
  if (l.empty())
    return out;
  out += '{';
  for (size_t i = 0; i < l.size(); ++i) {
    if (i > 0)
      out += ',';
    out += l[i].first;
    out += "=\"";
    append_escaped(out, l[i].second, true);
    out += '"';
  }
  out += '}';
  return out;
}

// -- writer --------------------------------------------------------------------

void writer::sample(std::string_view name, std::string_view help,
                    const char* type, const labels& l, double value) {
  auto i = families_.find(name);
  if (i == families_.end())
    i = families_.emplace(std::string{name}, family{std::string{help}, type, {}}).first;
  auto& lines = i->second.lines;
  lines += series_name(name, l);
  lines += ' ';
  lines += format_value(value);
  lines += '\n';
}

void writer::counter(std::string_view name, std::string_view help,
                     const labels& l, double value) {
  sample(name, help, "counter", l, value);
}

void writer::gauge(std::string_view name, std::string_view help,
                   const labels& l, double value) {
  sample(name, help, "gauge", l, value);
}

std::string writer::text() const {
  std::string out;
  for (auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f.help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += f.type;
    out += '\n';
    out += f.lines;
  }
  return out;
}

// -- registry ------------------------------------------------------------------

struct registry::series {
  std::string name;
  std::string help;
  labels lbls;
  bool is_counter;
  metrics::counter c; // the one of the two in use
  metrics::gauge g;
};

registry::registry() = default;

registry::~registry() = default;

registry& registry::global() {
  static registry instance;
  return instance;
}

registry::series& registry::find_or_add(std::string_view name,
                                        std::string_view help, const labels& l,
                                        bool is_counter) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& s : series_)
    if (s->name == name && s->lbls == l && s->is_counter == is_counter)
      return *s;
  auto s = std::make_unique<series>();
  s->name = name;
  s->help = help;
  s->lbls = l;
  s->is_counter = is_counter;
  return *series_.emplace_back(std::move(s));
}

metrics::counter& registry::counter(std::string_view name,
                                    std::string_view help, const labels& l) {
  return find_or_add(name, help, l, true).c;
}

metrics::gauge& registry::gauge(std::string_view name, std::string_view help,
                                const labels& l) {
  return find_or_add(name, help, l, false).g;
}

uint64_t registry::add_collector(std::function<void(writer&)> f) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto id = next_id_++;
  collectors_.emplace(id, std::move(f));
  return id;
}

void registry::remove_collector(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  collectors_.erase(id);
}

std::string registry::render(const std::function<void(writer&)>& extra) const {
  writer w;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& s : series_) {
      if (s->is_counter)
        w.counter(s->name, s->help, s->lbls, static_cast<double>(s->c.value()));
      else
        w.gauge(s->name, s->help, s->lbls, static_cast<double>(s->g.value()));
    }
    for (auto& [id, f] : collectors_)
      f(w);
  }
  if (extra)
    extra(w);
  return w.text();
}

} // namespace actio::metrics
