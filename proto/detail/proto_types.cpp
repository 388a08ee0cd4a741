#include "actio/proto/detail/proto_types.hpp"

#include "actio/proto/io.pb.h"
#include "actio/proto/message.hpp"

namespace actio {

void register_proto_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<proto::message<proto::io::Request>>(
    "actio.proto.io.Request");
  cfg.add_message_type<proto::message<proto::io::Completion>>(
    "actio.proto.io.Completion");
}

} // namespace actio
