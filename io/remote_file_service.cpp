#include "actio/io/remote_file_service.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "actio/actors/errc.hpp"
#include "actio/drivers/types.hpp"
#include "actio/io/file_service.hpp"
#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"

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
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? (mode & 07777) : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  auto fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
  if (fd < 0)
    return -errno;
  return static_cast<int>(fd);
}

class remote_file_service : public caf::event_based_actor {
public:
  remote_file_service(caf::actor_config& cfg, caf::actor files, int root_fd)
    : caf::event_based_actor(cfg), files_(std::move(files)),
      root_fd_(root_fd) {
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
      caf::anon_send(files_, close_atom::value, kv.second.file);
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
        if (!req.ParseFromString(wire))
          return error_completion(0, errc::malformed,
                                  "bytes do not parse as "
                                    + req.GetTypeName());
        return serve(std::move(req));
      },
      // What CAF delivers when a remote wrapper's bytes do not parse
      // (proto/message.hpp's inspect fails): an empty message.
      [this]() -> completion_msg {
        return error_completion(0, errc::malformed,
                                "a request that does not deserialise");
      },
    };
  }

private:
  struct entry {
    caf::actor_addr owner;
    uint64_t file = 0;
  };

  caf::result<completion_msg> serve(Request req) {
    auto id = req.id();
    switch (req.op_case()) {
      case Request::kOpen:
        return open(id, req.open());
      case Request::kReadAt: {
        auto& r = req.read_at();
        auto file = lookup(r.file());
        if (!file)
          return error_completion(id, file.error());
        if (r.length() > max_remote_read)
          return error_completion(id, errc::invalid_argument,
                                  "read_at length above 16 MiB");
        auto rp = make_response_promise();
        request(files_, caf::infinite, read_atom::value, *file, r.offset(),
                r.length())
          .then(
            [rp, id](byte_buffer& buf) mutable {
              completion_msg c;
              c->set_id(id);
              c->set_data(std::string(buf.begin(), buf.end()));
              rp.deliver(std::move(c));
            },
            [rp, id](caf::error& err) mutable {
              rp.deliver(error_completion(id, err));
            });
        return rp;
      }
      case Request::kWriteAt: {
        auto& w = req.write_at();
        auto file = lookup(w.file());
        if (!file)
          return error_completion(id, file.error());
        byte_buffer buf(w.data().begin(), w.data().end());
        return forward_value(id, request(files_, caf::infinite,
                                         write_atom::value, *file,
                                         w.offset(), std::move(buf)));
      }
      case Request::kStat: {
        auto file = lookup(req.stat().file());
        if (!file)
          return error_completion(id, file.error());
        return forward_value(id, request(files_, caf::infinite,
                                         stat_atom::value, *file));
      }
      case Request::kClose: {
        auto h = req.close().file();
        auto file = lookup(h);
        if (!file)
          return error_completion(id, file.error());
        open_.erase(h);
        auto rp = make_response_promise();
        request(files_, caf::infinite, close_atom::value, *file)
          .then([rp, id]() mutable { rp.deliver(value_completion(id, 0)); },
                [rp, id](caf::error& err) mutable {
                  rp.deliver(error_completion(id, err));
                });
        return rp;
      }
      default:
        return error_completion(id, errc::invalid_argument,
                                "request without an operation");
    }
  }

  template <class Handle>
  caf::result<completion_msg> forward_value(uint64_t id, Handle&& h) {
    auto rp = make_response_promise();
    std::forward<Handle>(h).then(
      [rp, id](uint64_t value) mutable {
        rp.deliver(value_completion(id, value));
      },
      [rp, id](caf::error& err) mutable {
        rp.deliver(error_completion(id, err));
      });
    return rp;
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
    auto fd = open_beneath(root_fd_, path, flags, op.mode());
    if (fd < 0) {
      auto err = -fd;
      if (err == EXDEV)
        return error_completion(id, errc::permission_denied,
                                "open " + path + ": leads outside the root");
      if (err == ENOSYS)
        return error_completion(id, errc::unsupported,
                                "open " + path
                                  + ": openat2 not available (Linux >= 5.6 "
                                    "needed for confined paths)");
      return error_completion(id, make_path_error("open", path, err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      ::close(fd);
      return error_completion(id, make_path_error("open", path, EISDIR));
    }
    // Hand the descriptor to the file service by reopening it through
    // /proc: the same inode, no path resolution (creation and truncation
    // already happened above).
    auto owner = caf::actor_cast<caf::actor_addr>(current_sender());
    auto reopen = "/proc/self/fd/" + std::to_string(fd);
    auto rflags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW);
    auto rp = make_response_promise();
    request(files_, caf::infinite, open_atom::value, std::move(reopen), rflags,
            uint32_t{0})
      .then(
        [this, rp, id, fd, owner](uint64_t file) mutable {
          ::close(fd);
          auto h = next_handle_++;
          open_.emplace(h, entry{owner, file});
          if (owner && watched_.insert(owner).second)
            monitor(owner);
          rp.deliver(value_completion(id, h));
        },
        [rp, id, fd, path](caf::error& err) mutable {
          ::close(fd);
          auto c = error_completion(id, err);
          c->mutable_error()->set_text("open " + path + ": "
                                       + c->error().text());
          rp.deliver(std::move(c));
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
        caf::anon_send(files_, close_atom::value, i->second.file);
        i = open_.erase(i);
      } else {
        ++i;
      }
    }
  }

  caf::actor files_;
  int root_fd_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, entry> open_;
  std::set<caf::actor_addr> watched_;
};

} // namespace

caf::expected<caf::actor> spawn_remote_file_service(runtime& rt,
                                                    const std::string& root) {
  auto fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    auto err = errno;
    if (err == ENOTDIR)
      return make_actio_error(errc::invalid_argument,
                              "root " + root + ": not a directory");
    return make_path_error("root", root, err);
  }
  auto files = spawn_file_service(rt);
  return rt.system().spawn<remote_file_service>(std::move(files), fd);
}

} // namespace actio::io
