#!/usr/bin/python3
"""Memory per idle connection: actio-echo (each backend) against the plain
epoll echo server, measured in the same run.

Starts each server on 127.0.0.1 port 0, opens N connections, sends one byte
on each and reads the echo (so every connection is accepted and has served
once), waits for the server to settle and reports the resident set size
(VmRSS) before and after, divided by N. Kernel socket buffers are not in
the RSS; they are the same for every server.

Usage: bench/idle_memory.py [--connections N] [--bin DIR] [--backends LIST]
       [--server-args="ARGS"]   (more actio-echo arguments)
"""
import argparse
import re
import resource
import socket
import subprocess
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def settle(pid):
    """Waits until the RSS stops moving (bounded: 5 s)."""
    last = rss_kib(pid)
    for _ in range(50):
        time.sleep(0.1)
        now = rss_kib(pid)
        if now == last:
            return now
        last = now
    return last


def measure(cmd, n):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        m = re.search(r":(\d+)", p.stdout.readline())
        if not m:
            raise RuntimeError(f"{cmd[0]} did not print its port")
        port = int(m.group(1))
        warm = socket.create_connection(("127.0.0.1", port))
        warm.sendall(b"x")
        warm.recv(1)
        warm.close()
        before = settle(p.pid)
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        for s in socks:
            s.sendall(b"x")
        for s in socks:
            if s.recv(1) != b"x":
                raise RuntimeError("no echo")
        after = settle(p.pid)
        for s in socks:
            s.close()
        return before, after
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--backends", default="uring,epoll")
    ap.add_argument("--server-args", default="", help="more actio-echo arguments, split on whitespace")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * a.connections + 64)), hard))
    servers = [("plain epoll", [f"{a.bin}/actio-epoll-echo", "--port", "0"])]
    for b in a.backends.split(","):
        servers.append((f"actio {b}", [f"{a.bin}/actio-echo", "--port", "0", f"--actio.io.backend={b}"] + a.server_args.split()))
    print(f"{'server':12} {'RSS before':>12} {'RSS with N idle':>16} {'per connection':>15}   (N = {a.connections})")
    for name, cmd in servers:
        before, after = measure(cmd, a.connections)
        per = (after - before) * 1024 / a.connections
        print(f"{name:12} {before:>8} KiB {after:>12} KiB {per:>11.0f} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
