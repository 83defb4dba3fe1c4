#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Small TLS clients for bench/run.sh (standard library only).

  idle  PORT N [--hold S]   open N TLS keep-alive connections to 127.0.0.1:PORT,
                            send GET /healthz on each and read the answer (the
                            server closes connections that never sent a request
                            after a short timeout), print "held=N failed=F", then
                            hold them until SIGTERM (or S seconds pass).
                            While holding, prints the latency of one request on
                            a fresh connection ("fresh_ms=...").
  ready PORT RUNS -- CMD... start CMD RUNS times; each time measure from the
                            exec to the first 200 from GET /readyz (polled every
                            1 ms), then stop it with SIGTERM. Prints one
                            "READY ms=..." line per run.
"""
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time


def context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # bench only: the server is our own child on loopback
    return ctx


def connect(ctx, port, timeout):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    # As Go's net/http (the API server) and wrk do: without it, the request
    # that follows the handshake's last flight waits ~40 ms for a delayed ACK.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_response(sock, deadline):
    """Reads one HTTP/1.1 response with a Content-Length; returns (status, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("no answer")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
        if len(buf) > 1 << 20:
            raise ValueError("header too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        if time.monotonic() > deadline:
            raise TimeoutError("short body")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return status, rest[:length]


def get(ctx, port, path, timeout=2.0, sock=None):
    deadline = time.monotonic() + timeout
    own = sock is None
    if own:
        sock = connect(ctx, port, timeout)
    sock.settimeout(timeout)
    req = "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path
    sock.sendall(req.encode())
    status, _ = read_response(sock, deadline)
    if own:
        sock.close()
    return status


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def cmd_idle(args):
    port, n = int(args[0]), int(args[1])
    hold = float(args[3]) if len(args) > 3 and args[2] == "--hold" else 3600.0
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    raise_fd_limit(n + 64)
    ctx = context()
    conns, failed = [], 0
    for _ in range(n):
        try:
            s = connect(ctx, port, 5)
            if get(ctx, port, "/healthz", timeout=5, sock=s) != 200:
                raise ConnectionError("status")
            conns.append(s)
        except (OSError, ValueError) as e:
            failed += 1
            if failed == 1:
                print("first failure: %r" % (e,), file=sys.stderr)
    print("held=%d failed=%d" % (len(conns), failed), flush=True)
    t0 = time.monotonic()
    try:
        status = get(ctx, port, "/healthz", timeout=5)
        print("fresh_ms=%.2f fresh_status=%d" % ((time.monotonic() - t0) * 1e3, status), flush=True)
    except (OSError, ValueError) as e:
        print("fresh_ms=-1 fresh_error=%r" % (e,), flush=True)
    # Hold until the parent sends SIGTERM (or the hold time passes).
    signal.sigtimedwait([signal.SIGTERM], hold)
    alive = 0
    for s in conns:
        try:
            s.settimeout(0.0)
            try:
                alive += 1 if s.recv(1) != b"" else 0
            except (BlockingIOError, ssl.SSLWantReadError):
                alive += 1  # nothing to read and not closed: still open
            s.close()
        except OSError:
            pass
    print("still_open_at_end=%d" % alive, flush=True)
    return 0


def cmd_ready(args):
    port, runs = int(args[0]), int(args[1])
    cmd = args[args.index("--") + 1:]
    ctx = context()
    rc = 0
    for _ in range(runs):
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        ms = None
        while time.monotonic() - t0 < 10:
            if proc.poll() is not None:
                break
            try:
                if get(ctx, port, "/readyz", timeout=1.0) == 200:
                    ms = (time.monotonic() - t0) * 1e3
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.001)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if ms is None:
            print("READY ms=-1 exit=%s" % proc.returncode, flush=True)
            rc = 1
        else:
            print("READY ms=%.2f" % ms, flush=True)
    return rc


def main(argv):
    if len(argv) < 2 or argv[1] not in ("idle", "ready"):
        print(__doc__, file=sys.stderr)
        return 2
    return cmd_idle(argv[2:]) if argv[1] == "idle" else cmd_ready(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
