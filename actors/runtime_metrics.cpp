#include "actio/actors/runtime_metrics.hpp"

#include <string>

namespace actio {

namespace {

constexpr double ns_per_second = 1e9;

void write_unit(const std::string& backend, driver_unit& u, metrics::writer& w) {
  metrics::labels l{{"backend", backend}, {"driver", std::to_string(u.index())}};
  auto with = [&l](const char* kind) {
    auto k = l;
    k.emplace_back("kind", kind);
    return k;
  };
  const auto& c = u.backend().counters();
  auto loop = u.stats();
  w.gauge("actio_driver_sockets", "Sockets registered with the driver", l,
          static_cast<double>(loop.sockets));
  for (size_t i = 0; i < driver_request_kinds; ++i)
    w.counter("actio_driver_requests_total", "Requests actors made to the driver, by kind",
              with(to_string(static_cast<driver_request>(i))),
              static_cast<double>(c.requests[i].get()));
  for (size_t i = 0; i < driver_completion_kinds; ++i)
    w.counter("actio_driver_completions_total",
              "Operations the kernel completed for the driver, by kind",
              with(to_string(static_cast<driver_completion>(i))),
              static_cast<double>(c.completions[i].get()));
  w.counter("actio_driver_read_bytes_total", "Bytes received on sockets (stream and datagram payload)", l,
            static_cast<double>(c.bytes_read.get()));
  w.counter("actio_driver_written_bytes_total", "Bytes sent on sockets (stream and datagram payload)", l,
            static_cast<double>(c.bytes_written.get()));
  w.counter("actio_driver_loop_iterations_total", "Turns of the driver loop", l,
            static_cast<double>(loop.iterations));
  w.counter("actio_driver_wakeups_total", "Wake-ups of the driver by other threads", l,
            static_cast<double>(u.remote_wakeups()));
  w.counter("actio_driver_blocked_seconds_total",
            "Seconds the driver spent in polls allowed to block in the kernel", l,
            static_cast<double>(loop.blocked_ns) / ns_per_second);
  w.counter("actio_driver_accept_pauses_total",
            "Accept waits after EMFILE, ENFILE, ENOBUFS or ENOMEM", l,
            static_cast<double>(c.accept_pauses.get()));
  w.gauge("actio_driver_pinned_actors", "Live actors pinned to the driver thread", l,
          static_cast<double>(u.pinned()));
  w.gauge("actio_driver_runnable_actors",
          "Pinned actors with messages waiting for their turn", l,
          static_cast<double>(loop.runnable));
}

} // namespace

void write_runtime_metrics(runtime& rt, metrics::writer& w) {
  for (size_t i = 0; i < rt.drivers(); ++i)
    write_unit(rt.backend_name(), rt.unit(i), w);
}

runtime_metrics::runtime_metrics(runtime& rt, metrics::registry& reg)
  : reg_(reg), id_(reg.add_collector([&rt](metrics::writer& w) {
      write_runtime_metrics(rt, w);
    })) {
}

runtime_metrics::~runtime_metrics() {
  reg_.remove_collector(id_);
}

} // namespace actio
