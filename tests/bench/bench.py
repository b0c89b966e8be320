#!/usr/bin/env python3
"""`make bench`: the server's speed on this machine, measured with wrk.

Seeds a fresh database (10,000 users by default; `--preload N` adds N existing relations, half
connections and half pending requests, in bulk; `--follows` follows among the users, 20 per user
by default; `--celebrity-followers N` makes user 1 followed by N users, more than `--users` if
need be), starts the release server, and drives it with wrk through each workload for a fixed
time at 64 connections, in the community mode the workload needs (`follow` and `followers` in
follow mode, the others in friendship mode). Prints one table, with the conditions it ran under. SQLite by default; `--postgres` uses TEST_POSTGRES_URL (the Makefile's
`bench-postgres` starts a throwaway cluster).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# BENCH_BIN: another build of the server to measure (a before/after comparison in one hour).
BIN = Path(os.environ["BENCH_BIN"]) if os.environ.get("BENCH_BIN") else ROOT / "target" / "release" / "connections-api"
SCRIPT = Path(__file__).with_name("workload.lua")
WORKLOADS = ["ceiling", "write", "follow", "repeat", "status", "list", "followers", "suggest"]
# The workloads that run in follow mode; the others run in friendship mode.
FOLLOW_MODE = {"follow", "followers"}
# How long a mode change may take to reach the server (its mode cache lasts 500 ms).
MODE_DEADLINE_S = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str, user_id: int) -> str:
    """An HS256 access token, as `connections-api token` makes them."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"token_type": "access", "user_id": user_id, "exp": int(time.time()) + 86400}
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_cpu_seconds() -> tuple[float, float]:
    """All cores' (busy, idle) seconds so far, from /proc/stat (idle and iowait count as idle)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle) / CLOCK_TICKS, idle / CLOCK_TICKS


def children_cpu_seconds() -> float:
    """The CPU of this script's finished children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def in_follow_mode(base: str, bearer: str) -> bool:
    """Whether the server answers in follow mode now: `is_followed/` answers 200 there, 403
    `follow_mode_disabled` in any other mode."""
    request = urllib.request.Request(base + "/api/v2/user/2/is_followed/", headers={"Authorization": f"Bearer {bearer}"})
    try:
        with urllib.request.urlopen(request, timeout=5):
            return True
    except urllib.error.HTTPError as error:
        if error.code == 403:
            return False
        raise


def wait_for_mode(base: str, bearer: str, follow: bool) -> None:
    """Polls until the server answers in the mode just set (bounded: MODE_DEADLINE_S)."""
    deadline = time.monotonic() + MODE_DEADLINE_S
    while in_follow_mode(base, bearer) != follow:
        if time.monotonic() > deadline:
            sys.exit(f"the server did not switch to {'follow' if follow else 'friendship'} mode within {MODE_DEADLINE_S} s")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, check=True, **kwargs)


def database_size(url: str, sqlite_file: Path | None) -> str:
    if sqlite_file is not None:
        size = sum(p.stat().st_size for p in sqlite_file.parent.glob(sqlite_file.name + "*"))
        return f"{size / 2**20:.1f} MiB"
    try:
        out = subprocess.run(["psql", url, "-tAc", "SELECT pg_database_size(current_database())"],
                             capture_output=True, text=True, check=True).stdout.strip()
        return f"{int(out) / 2**20:.1f} MiB"
    except (OSError, subprocess.CalledProcessError, ValueError):
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--preload", type=int, default=0, help="existing relations to bulk-load first")
    parser.add_argument("--follows", type=int, default=None, help="follows among the users (default: 20 per user)")
    parser.add_argument("--celebrity-followers", type=int, default=100,
                        help="user 1's followers, whose pages the followers workload reads")
    parser.add_argument("--duration", type=int, default=10, help="seconds per workload")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--sqlite-synchronous", choices=["full", "normal"], default="full",
                        help="SQLite: flush each batch before its answers (full, the server's default) or at checkpoints only")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    if args.follows is None:
        args.follows = 20 * args.users

    if not BIN.exists():
        sys.exit(f"{BIN} is missing: `cargo build --release` first (make bench does)")
    work = Path(tempfile.mkdtemp(prefix="connections-bench."))
    try:
        return bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(args, work: Path) -> int:
    secret = secrets.token_hex(32)
    env = dict(os.environ, JWT_SECRET=secret, RUST_LOG="warn", SQLITE_SYNCHRONOUS=args.sqlite_synchronous)
    sqlite_file = None
    if args.postgres:
        env["DATABASE_URL"] = os.environ["TEST_POSTGRES_URL"]
    else:
        sqlite_file = work / "bench.sqlite3"
        env["DATABASE_URL"] = f"sqlite://{sqlite_file}"

    started = time.monotonic()
    half = args.preload // 2
    run([BIN, "seed", "--users", str(args.users), "--connections", str(half), "--requests", str(args.preload - half),
         "--follows", str(args.follows), "--celebrity-followers", str(args.celebrity_followers)], env)
    if args.postgres:
        # The bulk load's aftermath (autovacuum's first pass over a million new rows, the
        # visibility map index-only scans need) now, not during the first workload.
        run(["psql", env["DATABASE_URL"], "-qc", "VACUUM ANALYZE"], env)
    seeded_in = time.monotonic() - started
    run([BIN, "preference", "set", "configurations.connection_enabled", "true"], env)
    mode = None
    users_file = work / "users.txt"
    users_file.write_text("".join(f"{i} {token(secret, i)}\n" for i in range(1, args.users + 1)))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}", "--bench-ceiling", "--rate-limit-actions", "0", "--max-in-flight-per-user", "0"], env=env)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        results = []
        for workload in args.workloads.split(","):
            wanted = "follow" if workload in FOLLOW_MODE else "friendship"
            if wanted != mode:
                run([BIN, "preference", "set", "configurations.follow_enabled", json.dumps(wanted == "follow")], env,
                    stdout=subprocess.DEVNULL)
                wait_for_mode(base, token(secret, 1), wanted == "follow")
                mode = wanted
            before = cpu_seconds(server.pid)
            machine_before, children_before = machine_cpu_seconds(), children_cpu_seconds()
            out = subprocess.run(
                ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
                 "--latency", "-s", str(SCRIPT), base],
                env=dict(env, BENCH_WORKLOAD=workload, BENCH_USERS=str(users_file)),
                capture_output=True, text=True, check=True,
            ).stdout
            cpu = cpu_seconds(server.pid) - before
            load_cpu = children_cpu_seconds() - children_before
            busy, idle = (after - before for after, before in zip(machine_cpu_seconds(), machine_before))
            line = next(l for l in out.splitlines() if l.startswith("BENCH_RESULT "))
            r = json.loads(line.split(" ", 1)[1])
            r["workload"] = workload
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            per_request = 1e6 / max(r["requests"], 1)
            r["cpu_us"] = cpu * per_request
            # Where the machine's CPU went, per request: the load generator, everything else
            # (the database server on PostgreSQL, the kernel's softirqs, other processes), idle.
            r["load_us"] = load_cpu * per_request
            r["rest_us"] = max(busy - cpu - load_cpu, 0) * per_request
            r["idle_us"] = idle * per_request
            results.append(r)
        rss = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    ceiling = next((r["rps"] for r in results if r["workload"] == "ceiling"), None)
    cpu_model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), platform.processor())
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    print()
    engine = "PostgreSQL" if args.postgres else f"SQLite (WAL, SQLITE_SYNCHRONOUS={args.sqlite_synchronous}: {'each batch flushed before its answers' if args.sqlite_synchronous == 'full' else 'flushed at checkpoints'})"
    print(f"database: {engine}; "
          f"{args.users} users; preload {args.preload} relations, {args.follows} follows, user 1 followed by "
          f"{args.celebrity_followers} (seeded in {seeded_in:.1f} s)")
    print(f"machine: {os.cpu_count()} cores, {cpu_model}; {platform.system()} {platform.release()}")
    print(f"load: {wrk_version.strip()}, {args.threads} threads, {args.connections} connections, "
          f"{args.duration} s per workload, on the same machine as the server")
    print()
    header = (f"{'workload':<9} {'req/s':>9} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'non-2xx':>8} {'CPU µs/req':>10} "
              f"{'of ceiling':>10} {'wrk µs':>7} {'rest µs':>7} {'idle µs':>7}")
    print(header)
    print("-" * len(header))
    for r in results:
        share = f"{100 * r['rps'] / ceiling:.0f}%" if ceiling else "n/a"
        print(f"{r['workload']:<9} {r['rps']:>9.0f} {r['p50'] / 1000:>7.2f} {r['p90'] / 1000:>7.2f} {r['p99'] / 1000:>7.2f} "
              f"{r['non2xx'] + r['socket_errors']:>8} {r['cpu_us']:>10.1f} {share:>10} "
              f"{r['load_us']:>7.1f} {r['rest_us']:>7.1f} {r['idle_us']:>7.1f}")
    print()
    print("CPU µs/req: the server's CPU per request; wrk µs: the load generator's; rest µs: the rest of the")
    print("machine's busy time (the database server on PostgreSQL, softirqs, anything else running);")
    print(f"idle µs: the cores' idle time. The four add up to {os.cpu_count()} cores' time per request.")
    print()
    print(f"peak server RSS: {rss:.1f} MiB; database size after the run: {database_size(env['DATABASE_URL'], sqlite_file)}")
    bad = [r["workload"] for r in results if r["non2xx"] or r["socket_errors"]]
    if bad:
        print(f"non-2xx answers or socket errors in: {', '.join(bad)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
