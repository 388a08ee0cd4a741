#pragma once

/// A fix for a CAF 0.17.6 TLS bug that lets one failed handshake close
/// other, healthy TLS connections between nodes.
///
/// OpenSSL keeps an error queue per thread, and SSL_get_error() reports
/// SSL_ERROR_SSL whenever that queue is not empty, whatever the call it is
/// asked about did. libcaf_openssl runs every TLS connection of a node on
/// the middleman's one multiplexer thread and drains the queue only when
/// CAF's logging is compiled in (the drain sits inside CAF_LOG_INFO). So
/// after a refused peer (a certificate from another CA, a plain-text node)
/// the queue keeps its errors, and the next SSL_read of a good connection
/// that merely has to wait for data is taken for a failure: the good link
/// is closed. Seen here: two chat nodes' link dropped every time a third
/// node retried with a foreign certificate.
///
/// This file defines SSL_read, SSL_write, SSL_accept and SSL_connect in the
/// program: they clear the thread's error queue (as the OpenSSL manual asks
/// before every TLS I/O call) and call OpenSSL's own. Being defined in the
/// executable, they take precedence for libcaf_openssl's calls.
/// node_config::prepare() calls `tls_error_queue_fix_active()` when secure,
/// which also makes sure this file is linked in.

#include <string>

namespace actio {

/// OpenSSL's reason for the last failed TLS handshake or read of this
/// process ("error:0A000418:SSL routines::tlsv1 alert unknown ca"), empty if
/// none failed. CAF 0.17 reports a refused peer only as a connection that
/// closed; this keeps why (tests check refusals by it).
std::string last_tls_failure();

/// True if libcaf_openssl's calls reach the wrappers (always, on ELF
/// platforms with the default symbol lookup).
bool tls_error_queue_fix_active();

} // namespace actio
