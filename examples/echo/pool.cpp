#include "pool.hpp"

#include <iostream>
#include <map>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/proto/node_link.hpp"

namespace echo_cluster {

namespace {

struct worker {
  std::string address;
  caf::actor remote; // null while down
};

struct job {
  std::string line;
  caf::response_promise promise;
  size_t worker = 0;  // index of the worker it was sent to
  size_t attempt = 0; // tries so far; replies of older tries are ignored
};

struct pool_state {
  pool_options opts;
  std::vector<worker> workers;
  std::map<uint64_t, job> jobs; // outstanding
  uint64_t next_job = 1;
  size_t next_worker = 0;
  std::vector<caf::actor> links; // strong: nothing else holds them
};

using state_ptr = std::shared_ptr<pool_state>;

void dispatch(caf::event_based_actor* self, const state_ptr& st, uint64_t id);

void fail(const state_ptr& st, uint64_t id, caf::error err) {
  auto i = st->jobs.find(id);
  if (i == st->jobs.end())
    return;
  i->second.promise.deliver(std::move(err));
  st->jobs.erase(i);
}

void dispatch(caf::event_based_actor* self, const state_ptr& st, uint64_t id) {
  auto i = st->jobs.find(id);
  if (i == st->jobs.end())
    return;
  auto& j = i->second;
  if (j.attempt >= st->opts.max_attempts) {
    fail(st, id, actio::make_actio_error(actio::errc::unreachable,
                                         "echo failed on every worker tried"));
    return;
  }
  auto n = st->workers.size();
  for (size_t k = 0; k < n; ++k) {
    auto w = (st->next_worker + k) % n;
    if (!st->workers[w].remote)
      continue;
    st->next_worker = (w + 1) % n;
    j.worker = w;
    auto attempt = ++j.attempt;
    self->request(st->workers[w].remote, st->opts.job_timeout, j.line)
      .then(
        [=](std::string& reply) {
          auto i = st->jobs.find(id);
          if (i == st->jobs.end() || i->second.attempt != attempt)
            return;
          i->second.promise.deliver(std::move(reply));
          st->jobs.erase(i);
        },
        [=](caf::error& err) {
          auto i = st->jobs.find(id);
          if (i == st->jobs.end() || i->second.attempt != attempt)
            return;
          // The worker is gone if its actor is unreachable; a timeout only
          // means slow, so it stays in the pool.
          if (err != caf::sec::request_timeout && st->workers[w].remote) {
            std::cout << "actio-echo: worker " << st->workers[w].address
                      << " failed: " << actio::describe(err) << std::endl;
            st->workers[w].remote = nullptr;
          }
          dispatch(self, st, id);
        });
    return;
  }
  fail(st, id, actio::make_actio_error(actio::errc::unreachable,
                                       "no echo worker available"));
}

caf::behavior pool(caf::event_based_actor* self, state_ptr st) {
  return {
    [=](caf::connect_atom) { // start watching the workers
      if (!st->links.empty())
        return;
      for (auto& [host, port] : st->opts.workers) {
        auto& w = st->workers.emplace_back();
        w.address = host;
        w.address.append(":");
        w.address.append(std::to_string(port));
        auto link = actio::spawn_node_link(self->system(), self, host, port,
                                           st->opts.node);
        self->link_to(link); // the links end with the pool
        st->links.push_back(std::move(link));
      }
    },
    [=](std::string& line) {
      auto id = st->next_job++;
      auto& j = st->jobs[id];
      j.line = std::move(line);
      auto promise = self->make_response_promise();
      j.promise = promise;
      dispatch(self, st, id);
      return promise;
    },
    [=](actio::node_up_atom, const std::string& address,
        const caf::actor& remote) {
      for (auto& w : st->workers)
        if (w.address == address) {
          w.remote = remote;
          std::cout << "actio-echo: worker " << address << " up" << std::endl;
        }
    },
    [=](actio::node_down_atom, const std::string& address,
        const caf::error& reason) {
      for (size_t w = 0; w < st->workers.size(); ++w) {
        if (st->workers[w].address != address)
          continue;
        st->workers[w].remote = nullptr;
        std::cout << "actio-echo: worker " << address << " down ("
                  << actio::describe(reason) << ")" << std::endl;
        // What it still owed goes to another worker.
        std::vector<uint64_t> owed;
        for (auto& [id, j] : st->jobs)
          if (j.worker == w)
            owed.push_back(id);
        for (auto id : owed)
          dispatch(self, st, id);
      }
    },
  };
}

} // namespace

caf::actor spawn_pool(caf::actor_system& sys, pool_options opts) {
  auto st = std::make_shared<pool_state>();
  st->opts = std::move(opts);
  return sys.spawn(pool, std::move(st));
}

} // namespace echo_cluster
