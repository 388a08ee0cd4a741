#pragma once

/// Registers actio's protobuf wrappers (proto/message.hpp) with CAF, so they
/// can travel between nodes: remote messages need type names. The node
/// programs' config (node_config) calls this in its constructor.
///
/// | C++ type                                   | CAF type name            |
/// |--------------------------------------------|--------------------------|
/// | `proto::message<proto::io::Request>`       | `actio.proto.io.Request` |
/// | `proto::message<proto::io::Completion>`    | `actio.proto.io.Completion` |

#include <caf/actor_system_config.hpp>

namespace actio {

void register_proto_types(caf::actor_system_config& cfg);

} // namespace actio
