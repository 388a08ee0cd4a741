#pragma once

/// A size check in front of CAF 0.17.6's BASP, so that a peer cannot make
/// a node allocate memory it never sends.
///
/// BASP reads a 32-byte header, then sizes its read buffer to the header's
/// `payload_len` (up to 4 GiB) before one byte of payload has arrived:
/// `std::vector::resize` zero-fills it, so the memory is resident at once.
/// Measured on a plain node port: one header claiming 256 MiB from a
/// stranger raised the node's RSS by 256 MiB; four claiming 1 GiB added
/// 1.9 GB and dropped the node's links. CAF 0.17 has no setting to bound
/// this.
///
/// CAF checks every header it reads with `caf::io::basp::valid()`, an
/// exported function of libcaf_io that it calls through the PLT. This file
/// defines that function in the program (the way tls_error_queue.hpp does
/// for OpenSSL): it refuses a header whose `payload_len` is above
/// `basp_max_payload()`, then asks CAF's own check. CAF closes a connection
/// whose header is not valid (`malformed_basp_message`) before it allocates
/// anything; other connections are not affected. The limit holds for every
/// BASP connection of the process, plain or TLS, incoming or outgoing.
/// node_config::prepare() sets it from `actio.node.max-message-size` and
/// calls `basp_guard_active()`, which also makes sure this file is linked
/// in.

#include <cstdint>

namespace actio {

/// The default largest BASP payload: 32 MiB (a remote file service's
/// default 16 MiB transfer plus room).
constexpr uint64_t default_basp_max_payload = uint64_t{32} << 20;

/// Sets the largest BASP payload this process accepts (process-wide).
void set_basp_max_payload(uint64_t bytes);

/// The largest BASP payload this process accepts.
uint64_t basp_max_payload();

/// True if libcaf_io's header checks reach the guard (always, on ELF
/// platforms with the default symbol lookup).
bool basp_guard_active();

} // namespace actio
