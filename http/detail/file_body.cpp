#include "actio/http/detail/file_body.hpp"

#include <algorithm>
#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "actio/drivers/errc.hpp"
#include "actio/http/message.hpp"
#include "actio/io/file_service.hpp"

namespace actio::http::detail {

namespace {

struct body_state {
  uint64_t offset;
  uint64_t left;
};

caf::behavior file_body(caf::event_based_actor* self, caf::actor files,
                        uint64_t file, uint64_t offset, uint64_t length) {
  self->attach_functor([files, file] {
    caf::anon_send(files, io::file_close_atom::value, file);
  });
  auto st = std::make_shared<body_state>(body_state{offset, length});
  return {
    [self, files, file, st](pull_atom, uint64_t max) -> caf::result<byte_buffer> {
      auto n = std::min(max, st->left);
      if (n == 0)
        return byte_buffer{};
      auto rp = self->make_response_promise<byte_buffer>();
      self
        ->request(files, caf::infinite, io::file_read_atom::value, file,
                  st->offset, n)
        .then(
          [st, rp](byte_buffer& bytes) mutable {
            st->offset += bytes.size();
            st->left -= std::min<uint64_t>(st->left, bytes.size());
            rp.deliver(std::move(bytes)); // short (empty) only if truncated
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_file_body(caf::actor_system& sys, caf::actor files,
                           uint64_t file, uint64_t offset, uint64_t length) {
  return sys.spawn(file_body, std::move(files), file, offset, length);
}

} // namespace actio::http::detail
