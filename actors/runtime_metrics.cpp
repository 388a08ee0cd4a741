#include "actio/actors/runtime_metrics.hpp"

#include <string>

namespace actio {

namespace {

constexpr double ns_per_second = 1e9;

/// One sample of `name` per kind of `t`, labelled `l` plus `kind`.
template <class Table, class Names>
void write_kinds(metrics::writer& w, const char* name, const char* help,
                 const metrics::labels& l, const Table& t, const Names& names) {
  for (size_t i = 0; i < t.size(); ++i) {
    auto k = l;
    k.emplace_back("kind", names[i]);
    w.counter(name, help, k, static_cast<double>(t[i]));
  }
}

void write_unit(const std::string& backend, driver_unit& u, metrics::writer& w) {
  metrics::labels l{{"backend", backend}, {"driver", std::to_string(u.index())}};
  const auto& c = u.backend().counters();
  auto loop = u.stats();
  w.gauge("actio_driver_sockets", "Sockets registered with the driver", l,
          static_cast<double>(loop.sockets));
  write_kinds(w, "actio_driver_requests_total",
              "Requests actors made to the driver, by kind", l, c.requests,
              driver_request_names);
  write_kinds(w, "actio_driver_completions_total",
              "Operations the kernel completed for the driver, by kind", l,
              c.completions, driver_completion_names);
  write_kinds(w, "actio_driver_file_requests_total",
              "File operations handed to the driver, by kind", l, c.file_requests,
              file_op_names);
  write_kinds(w, "actio_driver_file_completions_total",
              "File operations answered (value or error), by kind", l,
              c.file_completions, file_op_names);
  write_kinds(w, "actio_driver_file_errors_total",
              "File operations answered with an error, by kind", l, c.file_errors,
              file_op_names);
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
  w.gauge("actio_driver_pinned_mailbox_messages",
          "Messages waiting in the mailboxes of the driver's pinned actors", l,
          static_cast<double>(u.pinned_backlog()));
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
  for (size_t i = 0; i < rt.drivers(); ++i)
    rt.unit(i).backend().counters().count_file_outcomes();
}

runtime_metrics::~runtime_metrics() {
  reg_.remove_collector(id_);
}

} // namespace actio
