//! actio-tokio-echo — tokio current_thread TCP echo server for the echo
//! benchmark.
//!
//! A single-threaded echo server on tokio (Rust; no actio, no CAF): what the
//! async runtime most Rust network code runs on costs with its
//! single-threaded scheduler, next to the epoll, io_uring and libuv loops
//! (actio-epoll-echo, actio-uring-echo, actio-uv-echo).
//!
//! Behaviour:
//!   * one `current_thread` runtime, one task per connection, TCP_NODELAY on
//!     every accepted connection;
//!   * each task reads up to 64 KiB into its own buffer and writes it all
//!     back before it reads again (`write_all`): a peer that does not read
//!     stops only its own task (the same back-pressure as the epoll
//!     baseline);
//!   * EOF: everything read has been written back; the write side is shut
//!     down and the connection closed; an error closes it;
//!   * SIGINT / SIGTERM -> exit 0.
//!
//! After it listens it prints exactly one line to stdout and flushes:
//!   actio-tokio-echo: listening on HOST:PORT
//!
//! Usage (the same as bench/baseline_server.hpp's, which the C++ baselines
//! share):
//!   actio-tokio-echo [--host H] [--port P]
//!     --host H   IPv4 address to bind (default 127.0.0.1)
//!     --port P   TCP port (default 7001; 0 = let the OS choose)
//!     --help / --version
//!
//! The command line follows actors/cli/tool.hpp (coreutils conventions),
//! reimplemented here because this program does not link actio_cli: the
//! version is CMake's project version, passed in ACTIO_VERSION at build
//! time.
//!
//! Exit status: 0 on SIGINT/SIGTERM, 1 on a runtime error, 2 on bad usage.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::exit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

const PROG: &str = "actio-tokio-echo";
const VERSION: &str = env!("ACTIO_VERSION");
const SUMMARY: &str = "Single-threaded tokio (current_thread) TCP echo server: a baseline of \
                       actio-echo-bench.";
const READ_BUFFER_SIZE: usize = 64 * 1024;
/// listen(2)'s backlog: SOMAXCONN (the kernel caps it at net.core.somaxconn).
const BACKLOG: u32 = libc::SOMAXCONN as u32;

const EXIT_FAILURE: i32 = 1;
const EXIT_USAGE: i32 = 2;

// -- command line (actors/cli/tool.hpp, args.hpp) ---------------------------

struct Options {
    host: String,
    port: u16,
}

/// "NAME: MESSAGE" and the "Try" line on stderr, exit 2.
fn usage_error(message: &str) -> ! {
    eprintln!("{PROG}: {message}\nTry '{PROG} --help' for more information.");
    exit(EXIT_USAGE);
}

fn bad_value(option: &str, value: &str, expected: &str) -> ! {
    usage_error(&format!("{option}: '{value}' is not {expected}"));
}

/// strerror's text: io::Error's without " (os error N)".
fn reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Writes `text` to stdout and flushes; a failure is "NAME: write error:
/// REASON" and exit 1, as every actio tool does.
fn emit(text: &str) {
    let mut out = io::stdout().lock();
    if let Err(err) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        eprintln!("{PROG}: write error: {}", reason(&err));
        exit(EXIT_FAILURE);
    }
}

/// "  LEFT" padded to column 30, then TEXT (cli::option_line).
fn option_line(left: &str, text: &str) -> String {
    const COLUMN: usize = 30;
    let mut line = format!("  {left}");
    if line.len() + 2 > COLUMN {
        line.push('\n');
        line.push_str(&" ".repeat(COLUMN));
    } else {
        line.push_str(&" ".repeat(COLUMN - line.len()));
    }
    line + text + "\n"
}

fn print_help() {
    let mut text = format!("Usage: {PROG} [OPTION]...\n{SUMMARY}\n\nOptions:\n");
    text += &option_line("--host=H", "IPv4 address to bind (default 127.0.0.1)");
    text += &option_line("--port=P", "TCP port (default 7001; 0 = OS chooses)");
    text += &option_line("-h, --help", "print this help and exit");
    text += &option_line("--version", "print the version and exit");
    text += "\nExit status: 0 on success, 1 on a run-time failure, 2 on a usage error.\n";
    emit(&text);
}

/// A decimal integer in 0..=65535 (cli::parse_port: no sign but '+', no
/// blanks).
fn parse_port(text: &str) -> Option<u16> {
    if text.starts_with('-') {
        return None;
    }
    text.parse::<u16>().ok()
}

fn parse_args() -> Options {
    let mut opt = Options { host: "127.0.0.1".to_string(), port: 7001 };
    let mut args = std::env::args().skip(1);
    while let Some(raw) = args.next() {
        // "--opt=VALUE" and "--opt VALUE" alike.
        let (arg, inline) = match raw.find('=') {
            Some(eq) if raw.starts_with("--") => (raw[..eq].to_string(), Some(raw[eq + 1..].to_string())),
            _ => (raw.clone(), None),
        };
        let value = |args: &mut dyn Iterator<Item = String>| match inline.clone() {
            Some(v) => v,
            None => args
                .next()
                .unwrap_or_else(|| usage_error(&format!("option '{arg}' requires an argument"))),
        };
        match arg.as_str() {
            "--help" | "-h" => {
                print_help();
                exit(0);
            }
            "--version" => {
                emit(&format!("{PROG} (Actio) {VERSION}\n"));
                exit(0);
            }
            "--host" => opt.host = value(&mut args),
            "--port" => {
                let v = value(&mut args);
                opt.port = parse_port(&v).unwrap_or_else(|| bad_value(&arg, &v, "a port number (0-65535)"));
            }
            _ if !arg.starts_with('-') => usage_error(&format!("extra operand '{arg}'")),
            _ if raw.len() >= 2 && !raw.starts_with("--") => {
                usage_error(&format!("invalid option -- '{}'", &raw[1..]))
            }
            _ => usage_error(&format!("unrecognized option '{raw}'")),
        }
    }
    opt
}

// -- server -----------------------------------------------------------------

fn fail(what: &str, err: io::Error) -> ! {
    eprintln!("{PROG}: {what}: {}", reason(&err));
    exit(EXIT_FAILURE);
}

/// Allow as many connections as the hard limit permits.
fn raise_fd_limit() {
    // SAFETY: plain system calls on a local struct.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 && rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}

/// The listener on opt.host:opt.port: SO_REUSEADDR, backlog SOMAXCONN
/// (baseline_server.hpp's make_listener).
fn make_listener(opt: &Options) -> TcpListener {
    let ip: Ipv4Addr = opt
        .host
        .parse()
        .unwrap_or_else(|_| bad_value("--host", &opt.host, "an IPv4 address"));
    let socket = TcpSocket::new_v4().unwrap_or_else(|e| fail("socket", e));
    socket.set_reuseaddr(true).unwrap_or_else(|e| fail("setsockopt(SO_REUSEADDR)", e));
    socket
        .bind(SocketAddr::V4(SocketAddrV4::new(ip, opt.port)))
        .unwrap_or_else(|e| fail("bind", e));
    socket.listen(BACKLOG).unwrap_or_else(|e| fail("listen", e))
}

/// Echoes until EOF or an error. Each read is written back entirely before
/// the next read: a peer that does not read holds up only this task.
async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; READ_BUFFER_SIZE];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => {
                // EOF: all that came has gone back; pass the EOF on.
                let _ = stream.shutdown().await;
                return;
            }
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            Err(_) => return, // ECONNRESET, ...: close
        }
    }
}

async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                if let Err(err) = stream.set_nodelay(true) {
                    eprintln!("{PROG}: TCP_NODELAY: {}", reason(&err));
                }
                tokio::spawn(echo(stream));
            }
            // e.g. EMFILE: report it and keep accepting.
            Err(err) => eprintln!("{PROG}: accept: {}", reason(&err)),
        }
    }
}

fn main() {
    let opt = parse_args();
    raise_fd_limit(); // SIGPIPE is ignored already: Rust's runtime does it.

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("tokio runtime", e));
    runtime.block_on(async {
        let mut sigint = signal(SignalKind::interrupt()).unwrap_or_else(|e| fail("signal", e));
        let mut sigterm = signal(SignalKind::terminate()).unwrap_or_else(|e| fail("signal", e));
        let listener = make_listener(&opt);
        let bound = listener.local_addr().unwrap_or_else(|e| fail("getsockname", e));
        // The line the bench waits for (baseline_server.hpp's
        // announce_listening).
        emit(&format!("{PROG}: listening on {}:{}\n", bound.ip(), bound.port()));
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
            _ = serve(listener) => {}
        }
    });
    // Dropping the runtime drops every connection's task: exit 0.
}
