#!/usr/bin/env python3
"""Memory and file descriptors per live connection: starts the server (the binary given, on a
scratch SQLite file), opens N event streams and N sockets (raw HTTP on loopback, from one
user per 5), and prints the server's resident memory and open descriptors before and after.

    python3 tests/bench/live_memory.py target/release/connections-api [N]
"""
import base64, os, socket, subprocess, sys, tempfile, time

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
work = tempfile.mkdtemp()
env = dict(os.environ, JWT_SECRET="live-memory-secret-live-memory-00", RUST_LOG="warn",
           DATABASE_URL=f"sqlite://{work}/live.sqlite3", LIVE_MAX_TOTAL=str(2 * n + 10), LIVE_MAX_PER_USER="5")
run = lambda *a: subprocess.run([binary, *a], env=env, check=True, capture_output=True, text=True).stdout.strip()
users = (2 * n) // 5 + 1
run("seed", "--users", str(users))
tokens = [run("token", str(u), "--ttl", "3600") for u in range(1, users + 1)]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], env=env, stderr=subprocess.DEVNULL)

def status(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["VmRSS"].split()[0]), len(os.listdir(f"/proc/{pid}/fd"))

def connect():
    for _ in range(200):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")

def opened(sock, expect):
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.split(b"\r\n")[0].split()[1] == expect, head[:200]

try:
    connect().close()
    time.sleep(0.5)
    rss0, fds0 = status(server.pid)
    held = []
    for i in range(n):
        token = tokens[i // 5]
        c = connect()
        c.sendall(f"GET /api/v2/stream/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        opened(c, b"200")
        held.append(c)
    rss1, fds1 = status(server.pid)
    for i in range(n):
        token = tokens[(n + i) // 5]
        c = connect()
        key = base64.b64encode(os.urandom(16)).decode()
        c.sendall((f"GET /ws/notify?subscribe-user HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: __{token}\r\n\r\n").encode())
        opened(c, b"101")
        held.append(c)
    rss2, fds2 = status(server.pid)
    print(f"{n} streams: +{(rss1 - rss0) / n:.1f} KiB resident and +{(fds1 - fds0) / n:.2f} descriptors each")
    print(f"{n} sockets: +{(rss2 - rss1) / n:.1f} KiB resident and +{(fds2 - fds1) / n:.2f} descriptors each")
    print(f"server: {rss0 / 1024:.1f} MiB resident idle, {rss2 / 1024:.1f} MiB with {2 * n} live connections ({binary})")
finally:
    server.kill()
