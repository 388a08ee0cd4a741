#include "actio/proto/remote_file_service.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <array>
#include <map>
#include <set>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/file_service.hpp"
#include "actio/proto/detail/remote_file_counters.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"
#include "actio/proto/node_guard.hpp"

namespace actio::io {

namespace {

using proto::io::Completion;
using proto::io::Request;
using request_msg = proto::message<Request>;
using completion_msg = proto::message<Completion>;

constexpr int allowed_flags = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC
                              | O_APPEND | O_NOFOLLOW | O_DSYNC | O_SYNC;

completion_msg value_completion(uint64_t id, uint64_t value) {
  completion_msg c;
  c->set_id(id);
  c->set_value(value);
  return c;
}

completion_msg error_completion(uint64_t id, const caf::error& err) {
  completion_msg c;
  c->set_id(id);
  auto* e = c->mutable_error();
  if (err.category() == caf::atom("actio")) {
    e->set_code(err.code());
    if (err.context().match_elements<std::string>())
      e->set_text(err.context().get_as<std::string>(0));
    else
      e->set_text(describe(err));
  } else {
    e->set_code(static_cast<uint32_t>(errc::system_error));
    e->set_text(describe(err));
  }
  return c;
}

completion_msg error_completion(uint64_t id, errc code, std::string text) {
  return error_completion(id, make_actio_error(code, std::move(text)));
}

/// openat2(2) below `root_fd`; -errno on failure.
int open_beneath(int root_fd, const std::string& path, int flags,
                 uint32_t mode) {
  open_how how{};
  // O_NONBLOCK: opening a FIFO (or a device) can block until a peer opens
  // its other end, which would hold this CAF worker thread -- and with it
  // every other client and the shutdown -- for as long as nobody does. The
  // caller refuses everything but regular files; those ignore the flag,
  // and the file service reopens without it.
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NONBLOCK);
  how.mode = (flags & O_CREAT) ? (mode & 07777) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  auto fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
  if (fd < 0)
    return -errno;
  return static_cast<int>(fd);
}

// Published to other nodes: guarded against their exit messages.
class remote_file_service : public actio::node_actor {
public:
  remote_file_service(caf::actor_config& cfg, caf::actor files, int root_fd,
                      remote_file_options opts)
    : actio::node_actor(cfg), files_(std::move(files)),
      root_fd_(root_fd), opts_(opts), counters_(opts_.metrics) {
    set_down_handler([this](caf::down_msg& msg) { owner_down(msg.source); });
  }

  ~remote_file_service() override {
    if (root_fd_ >= 0)
      ::close(root_fd_);
  }

  const char* name() const override {
    return "actio.remote_file_service";
  }

  void on_exit() override {
    for (auto& kv : open_)
      caf::anon_send(files_, file_close_atom::value, kv.second.file);
    open_.clear();
  }

protected:
  caf::behavior make_behavior() override {
    return {
      [this](request_msg& req) -> caf::result<completion_msg> {
        return serve(std::move(*req));
      },
      [this](const std::string& wire) -> caf::result<completion_msg> {
        Request req;
        if (!req.ParseFromString(wire)) {
          counters_.malformed();
          return error_completion(0, errc::malformed,
                                  "bytes do not parse as "
                                    + req.GetTypeName());
        }
        return serve(std::move(req));
      },
      // What CAF delivers when a remote wrapper's bytes do not parse
      // (proto/message.hpp's inspect fails): an empty message.
      [this]() -> completion_msg {
        counters_.malformed();
        return error_completion(0, errc::malformed,
                                "a request that does not deserialise");
      },
    };
  }

private:
  using counters = detail::remote_file_counters;
  static constexpr size_t other_op = counters::other_op;

  struct entry {
    caf::actor_addr owner;
    uint64_t file = 0;
  };

  /// What one client has accepted and not yet completed.
  struct load {
    size_t requests = 0;
    uint64_t bytes = 0;
  };

  /// One accepted request: its promise and the share of its client's load
  /// it holds until `finish` gives it back.
  struct ticket {
    caf::response_promise rp;
    caf::actor_addr client;
    uint64_t id = 0;
    uint64_t bytes = 0;
    size_t op = other_op; ///< op_index, for the error count
  };

  /// Counts the request; answers given at once are counted here if errors,
  /// those given later in `finish`.
  caf::result<completion_msg> serve(Request req) {
    op_ = counters::op_index(req.op_case());
    counters_.request(op_);
    auto r = serve_op(std::move(req));
    if (r.flag == caf::rt_value && r.value.match_elements<completion_msg>()
        && r.value.get_as<completion_msg>(0)->has_error())
      counters_.failed(op_);
    return r;
  }

  caf::result<completion_msg> serve_op(Request req) {
    auto id = req.id();
    switch (req.op_case()) {
      case Request::kOpen:
        return open(id, req.open());
      case Request::kReadAt: {
        auto& r = req.read_at();
        auto file = lookup(r.file());
        if (!file)
          return error_completion(id, file.error());
        if (r.length() > opts_.max_transfer)
          return error_completion(id, errc::invalid_argument,
                                  "read_at length " + std::to_string(r.length())
                                    + " above the limit of "
                                    + std::to_string(opts_.max_transfer)
                                    + " bytes");
        auto t = admit(id, r.length());
        if (!t)
          return error_completion(id, t.error());
        request(files_, caf::infinite, file_read_atom::value, *file, r.offset(),
                r.length())
          .then(
            [this, t = *t](byte_buffer& buf) mutable {
              counters_.read(buf.size());
              completion_msg c;
              c->set_id(t.id);
              c->set_data(std::string(buf.begin(), buf.end()));
              finish(t, std::move(c));
            },
            [this, t = *t](caf::error& err) mutable {
              finish(t, error_completion(t.id, err));
            });
        return t->rp;
      }
      case Request::kWriteAt: {
        auto& w = req.write_at();
        auto file = lookup(w.file());
        if (!file)
          return error_completion(id, file.error());
        if (w.data().size() > opts_.max_transfer)
          return error_completion(id, errc::invalid_argument,
                                  "write_at of " + std::to_string(w.data().size())
                                    + " bytes above the limit of "
                                    + std::to_string(opts_.max_transfer)
                                    + " bytes");
        auto t = admit(id, w.data().size());
        if (!t)
          return error_completion(id, t.error());
        counters_.written(w.data().size());
        byte_buffer buf(w.data().begin(), w.data().end());
        return forward_value(*t, request(files_, caf::infinite,
                                         file_write_atom::value, *file,
                                         w.offset(), std::move(buf)));
      }
      case Request::kStat: {
        auto file = lookup(req.stat().file());
        if (!file)
          return error_completion(id, file.error());
        auto t = admit(id, 0);
        if (!t)
          return error_completion(id, t.error());
        return forward_value(*t, request(files_, caf::infinite,
                                         file_stat_atom::value, *file));
      }
      case Request::kClose: {
        auto h = req.close().file();
        auto file = lookup(h);
        if (!file)
          return error_completion(id, file.error());
        auto t = admit(id, 0);
        if (!t)
          return error_completion(id, t.error());
        open_.erase(h);
        request(files_, caf::infinite, file_close_atom::value, *file)
          .then(
            [this, t = *t]() mutable { finish(t, value_completion(t.id, 0)); },
            [this, t = *t](caf::error& err) mutable {
              finish(t, error_completion(t.id, err));
            });
        return t->rp;
      }
      default:
        return error_completion(id, errc::invalid_argument,
                                "request without an operation");
    }
  }

  template <class Handle>
  caf::result<completion_msg> forward_value(ticket t, Handle&& h) {
    auto rp = t.rp;
    std::forward<Handle>(h).then(
      [this, t](uint64_t value) mutable {
        finish(t, value_completion(t.id, value));
      },
      [this, t](caf::error& err) mutable {
        finish(t, error_completion(t.id, err));
      });
    return rp;
  }

  /// Accepts a request of the current sender costing `bytes`, or says why
  /// not (`too_many_requests`).
  caf::expected<ticket> admit(uint64_t id, uint64_t bytes) {
    auto client = caf::actor_cast<caf::actor_addr>(current_sender());
    auto& l = load_[client];
    if (l.requests >= opts_.max_in_flight
        || l.bytes + bytes > opts_.max_bytes_in_flight) {
      auto why = l.requests >= opts_.max_in_flight
                   ? std::to_string(l.requests) + " requests in flight (limit "
                       + std::to_string(opts_.max_in_flight) + ")"
                   : std::to_string(l.bytes) + " bytes in flight, "
                       + std::to_string(bytes) + " more asked (limit "
                       + std::to_string(opts_.max_bytes_in_flight) + ")";
      if (l.requests == 0)
        load_.erase(client);
      return make_actio_error(errc::too_many_requests,
                              "request " + std::to_string(id) + " refused: "
                                + why + "; retry after a completion");
    }
    ++l.requests;
    l.bytes += bytes;
    return ticket{make_response_promise(), std::move(client), id, bytes, op_};
  }

  /// Completes an accepted request and gives its share of the load back.
  void finish(ticket& t, completion_msg c) {
    if (c->has_error())
      counters_.failed(t.op);
    auto i = load_.find(t.client);
    if (i != load_.end()) {
      i->second.requests -= 1;
      i->second.bytes -= t.bytes;
      if (i->second.requests == 0)
        load_.erase(i);
    }
    t.rp.deliver(std::move(c));
  }

  caf::result<completion_msg> open(uint64_t id, const proto::io::Open& op) {
    const auto& path = op.path();
    auto flags = op.flags();
    if (path.empty())
      return error_completion(id, errc::invalid_argument, "open: empty path");
    if (path.find('\0') != std::string::npos)
      return error_completion(id, errc::invalid_argument,
                              "open: path contains a NUL byte");
    if ((flags & ~allowed_flags) != 0)
      return error_completion(id, errc::invalid_argument,
                              "open " + path + ": unsupported flags");
    auto t = admit(id, 0);
    if (!t)
      return error_completion(id, t.error());
    // Completes at once (the promise exists already).
    auto done = [&](completion_msg c) -> caf::result<completion_msg> {
      auto rp = t->rp;
      finish(*t, std::move(c));
      return rp;
    };
    auto fd = open_beneath(root_fd_, path, flags, op.mode());
    if (fd < 0) {
      auto err = -fd;
      if (err == EXDEV)
        return done(error_completion(id, errc::permission_denied,
                                     "open " + path
                                       + ": leads outside the root"));
      if (err == ENOSYS)
        return done(error_completion(id, errc::unsupported,
                                     "open " + path
                                       + ": openat2 not available (Linux >= "
                                         "5.6 needed for confined paths)"));
      return done(error_completion(id, make_path_error("open", path, err)));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      ::close(fd);
      return done(error_completion(id, make_path_error("open", path, EISDIR)));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return done(error_completion(id, errc::invalid_argument,
                                   "open " + path
                                     + ": not a regular file (FIFOs, "
                                       "sockets and devices are refused)"));
    }
    // Hand the descriptor to the file service by reopening it through
    // /proc: the same inode, no path resolution (creation and truncation
    // already happened above).
    auto reopen = "/proc/self/fd/" + std::to_string(fd);
    auto rflags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW);
    auto rp = t->rp;
    request(files_, caf::infinite, file_open_atom::value, std::move(reopen), rflags,
            uint32_t{0})
      .then(
        [this, t = *t, fd](uint64_t file) mutable {
          ::close(fd);
          auto h = next_handle_++;
          auto& owner = t.client;
          open_.emplace(h, entry{owner, file});
          if (owner && watched_.insert(owner).second)
            monitor(owner);
          finish(t, value_completion(t.id, h));
        },
        [this, t = *t, fd, path](caf::error& err) mutable {
          ::close(fd);
          auto c = error_completion(t.id, err);
          c->mutable_error()->set_text("open " + path + ": "
                                       + c->error().text());
          finish(t, std::move(c));
        });
    return rp;
  }

  /// The file service's file behind `handle`, if the sender owns it.
  caf::expected<uint64_t> lookup(uint64_t handle) {
    auto i = open_.find(handle);
    if (i == open_.end()) {
      if (handle != 0 && handle < next_handle_)
        return make_actio_error(errc::closed, "file "
                                                + std::to_string(handle)
                                                + " is closed");
      return make_actio_error(errc::invalid_argument,
                              "no file " + std::to_string(handle));
    }
    if (i->second.owner != caf::actor_cast<caf::actor_addr>(current_sender()))
      return make_actio_error(errc::invalid_argument,
                              "file " + std::to_string(handle)
                                + " belongs to another client");
    return i->second.file;
  }

  void owner_down(const caf::actor_addr& who) {
    watched_.erase(who);
    for (auto i = open_.begin(); i != open_.end();) {
      if (i->second.owner == who) {
        caf::anon_send(files_, file_close_atom::value, i->second.file);
        i = open_.erase(i);
      } else {
        ++i;
      }
    }
  }

  caf::actor files_;
  int root_fd_;
  remote_file_options opts_;
  counters counters_;
  std::map<caf::actor_addr, load> load_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, entry> open_;
  std::set<caf::actor_addr> watched_;
  size_t op_ = other_op; // op_index of the request being served
};

/// The root's descriptor, after checking the options.
caf::expected<int> open_root(const std::string& root,
                             const remote_file_options& opts) {
  if (opts.max_in_flight == 0 || opts.max_transfer == 0
      || opts.max_bytes_in_flight < opts.max_transfer)
    return make_actio_error(errc::invalid_argument,
                            "remote file service: max_in_flight and "
                            "max_transfer must be positive, "
                            "max_bytes_in_flight at least max_transfer");
  auto fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    auto err = errno;
    if (err == ENOTDIR)
      return make_actio_error(errc::invalid_argument,
                              "root " + root + ": not a directory");
    return make_path_error("root", root, err);
  }
  return fd;
}

} // namespace

caf::expected<caf::actor>
spawn_remote_file_service(runtime& rt, const std::string& root,
                          remote_file_options opts) {
  auto fd = open_root(root, opts);
  if (!fd)
    return fd.error();
  auto files = spawn_file_service(rt);
  return rt.system().spawn<remote_file_service>(std::move(files), *fd, opts);
}

caf::expected<supervised_remote_file_service>
spawn_supervised_remote_file_service(runtime& rt, const std::string& root,
                                     remote_file_options opts,
                                     supervisor_options sup) {
  auto fd = open_root(root, opts);
  if (!fd)
    return fd.error();
  // Always the same driver: the files a crashed incarnation opened are
  // still open there, under the same ids.
  auto* unit = &rt.next_unit();
  auto h = spawn_supervisor(rt.system(),
                            {{"files", [unit] { return spawn_file_service(*unit); }}},
                            sup);
  if (!h) {
    ::close(*fd);
    return h.error();
  }
  auto svc = rt.system().spawn<remote_file_service>(h->child("files"), *fd,
                                                    opts);
  return supervised_remote_file_service{std::move(svc), std::move(*h)};
}

} // namespace actio::io
