"""Follower latency (not a test): how long after a commit an event is in a follower's read models.

Run from the repository root::

    python -m bench.follower_bench                 # 50 samples on PostgreSQL and SQLite
    python -m bench.follower_bench --samples 20 --backends postgresql

A ``trame project --follow`` process runs against a fresh store; this process appends one
event at a time without projecting it (as another worker would with inline projection
off) and polls the read model every millisecond until the follower has applied it. On
PostgreSQL the follower wakes on the append's NOTIFY; on SQLite it polls every
``--poll`` seconds (0.5 by default), so its median is about half the poll. Prints a
markdown table of p50 / p95 / max in milliseconds; the target is p95 < 100 ms on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from core.application import Trame
from core.settings import Settings
from core.store import Context, Write
from core.territories import PluginEnabled

PG_URL = os.environ.get("TRAME_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def measure(url: str, samples: int, poll: float) -> list[float]:
    trame = Trame(Settings(database_url=url, secret_key="bench", project_inline=False))  # noqa: S106 - a throwaway store
    env = {**os.environ, "TRAME_DATABASE_URL": url, "TRAME_SECRET_KEY": "bench"}
    follower = subprocess.Popen([sys.executable, "-m", "core.cli", "project", "--follow", "--poll", str(poll)], env=env)  # noqa: S603 - our own CLI
    latencies: list[float] = []
    try:
        time.sleep(3)  # started and caught up
        for i in range(samples):
            territory = f"t{i}"
            trame.store.append(Context(author="bench", territory=territory), Write(uuid.uuid4(), 0, [PluginEnabled(plugin="cafe")]))
            committed = time.perf_counter()
            while True:
                with trame.db.read() as cur:
                    if cur.scalar("SELECT COUNT(*) FROM territory_plugins WHERE territory = ?", (territory,)):
                        break
                if time.perf_counter() - committed > 10:
                    raise RuntimeError("the follower did not apply the event within 10 s")
                time.sleep(0.001)
            latencies.append((time.perf_counter() - committed) * 1000)
            time.sleep(0.05)
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=20)
        trame.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--poll", type=float, default=0.5, help="the follower's poll (SQLite's only way to learn of new events)")
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="trame-follow-")
            url = f"sqlite:///{Path(folder) / 'trame.db'}"
        else:
            url = f"{PG_URL}?schema=bench_follow_{uuid.uuid4().hex[:8]}"
        ms = sorted(measure(url, args.samples, args.poll))
        p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
        rows.append(f"| {backend} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |")
        if backend != "sqlite":
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{url.rsplit("=", 1)[1]}" CASCADE')
    print(f"Follower latency, poll {args.poll} s (ms from commit to read model)\n")
    print("| backend | samples | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
