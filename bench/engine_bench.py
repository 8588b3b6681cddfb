"""Engine benchmark (not a test): every figure of the engine issue, each beside its floor, in one run.

Run from the repository root::

    python -m bench.engine_bench                     # 200,000 events (about 15-25 min on a shared 2-core machine)
    python -m bench.engine_bench --quick             # smoke run, under a minute
    python -m bench.engine_bench --events 2000000    # national scale
    python -m bench.engine_bench --baseline old.md   # fill the "before" column from a previous report

Rows (what is measured / its floor, measured in the same run):

1. 16 concurrent writers on the JSON API of a real ``trame serve`` (uvicorn) on SQLite and on
   PostgreSQL: requests, 2xx, 409, 5xx; then the events in the store against the answers
   (lost, duplicated, 5xx that wrote, spurious 409). Floor: zero errors.
2. One command through ``Trame.execute`` (append + inline projection) on SQLite / ``EventStore.append``.
3. ``trame rebuild`` (``trame.runner.rebuild()``) of every projection on a store generated with
   the annuaire's own events (``bench.annuaire_bench``'s seeded generator) / ``EventStore.read``
   over the whole log; time per projection.
4. The same rebuild on PostgreSQL (the same events, copied byte for byte) / the SQLite rebuild.
5. Append, 1 event per append: ``EventStore.append`` / the recorder's ``insert_events``
   (``bench.core_bench``'s measure, reused by import), SQLite and PostgreSQL.
6. The directory page with ``wrk``, one uvicorn worker, at 1k structures and at the bench size /
   a bare Litestar + Jinja page of the same size (``bench.directory_bench``, called as a program).
7. Search "pole emploi" as of 2010-06-01, p50/p95, through ``Directory.list_structures`` (what the
   page calls) / the same search as of today.
8. Storage: bytes per event by table (SQLite ``dbstat``, PostgreSQL ``pg_total_relation_size``) /
   the event log's own bytes per event.

The markdown report goes to stdout and ``bench/results-latest.md``; progress to stderr.
See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench import annuaire_bench as ab
from bench import core_bench as cb
from core import clock
from core.application import Trame
from core.settings import Settings
from core.store import SYSTEM, Context, Write

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results-latest.md"
DEFAULT_PG_URL = cb.DEFAULT_PG_URL
SUMMARY_TAG = "engine-bench-summary"
API_SLUG = "bench-api"
API_EMAIL = "coordination@bench-api.example"
ALL_ROWS = (1, 2, 3, 4, 5, 6, 7, 8)

EXECUTE_TARGET_RATIO = 0.6
EXECUTE_TARGET_RATE = 2000.0


def progress(msg: str) -> None:
    print(f"[engine-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


med = cb.med
cell = cb.cell


def pct(xs: Sequence[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def spread(xs: Sequence[float]) -> str:
    """Half the min-max range relative to the median, as core_bench prints it."""
    if len(xs) < 2:
        return ""
    m = med(list(xs))
    return f" ±{(max(xs) - min(xs)) / 2 / m * 100:.0f}%" if m else ""


def fmt(x: float | None, unit: str = "") -> str:
    if x is None or x != x:
        return "-"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return f"{s}{unit}"


# ---------------------------------------------------------------------------------------------
# Stores: SQLite files in a temp dir, PostgreSQL schemas dropped at the end
# ---------------------------------------------------------------------------------------------


class Stores:
    def __init__(self, tmpdir: str | None, pg_url: str, want_pg: bool) -> None:
        self.root = tempfile.mkdtemp(prefix="trame-engine-bench-", dir=tmpdir)
        self.pg_url = pg_url.split("?")[0]
        self.schemas: set[str] = set()
        self.pg_error: str | None = None
        self.pg_label = ""
        atexit.register(self.close)
        if want_pg:
            try:
                import psycopg

                with psycopg.connect(self.pg_url, connect_timeout=3) as conn:
                    row = conn.execute("SHOW server_version").fetchone()
                    impl = psycopg.pq.__impl__
                u = urlparse(self.pg_url)
                self.pg_label = f"PostgreSQL {row[0] if row else '?'} ({u.hostname}:{u.port or 5432}/{u.path.lstrip('/')}, psycopg {impl})"
            except Exception as exc:
                self.pg_error = f"PostgreSQL unreachable at {self.pg_url} ({type(exc).__name__}: {' '.join(str(exc).split())})"
                progress(self.pg_error)
        else:
            self.pg_error = "not requested (--backends)"

    @property
    def pg(self) -> bool:
        return self.pg_error is None

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{os.path.join(self.root, name + '.db')}"

    def pg_schema_url(self, prefix: str) -> str:
        schema = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
        self.schemas.add(schema)
        return f"{self.pg_url}?schema={schema}"

    def drop(self, url: str) -> None:
        if not url.startswith("postgres"):
            return
        schema = url.split("schema=")[1]
        import psycopg

        try:
            with psycopg.connect(self.pg_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.schemas.discard(schema)
        except Exception as exc:  # clean-up must not hide the real error
            progress(f"could not drop schema {schema}: {exc}")

    def close(self) -> None:
        for schema in list(self.schemas):
            self.drop(f"{self.pg_url}?schema={schema}")
        shutil.rmtree(self.root, ignore_errors=True)


def open_trame(url: str) -> Trame:
    """The application as ``trame serve`` builds it (installed plugins, inline projection)."""
    return Trame(Settings(database_url=url, secret_key="engine-bench"))  # noqa: S106


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :]


# ---------------------------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------------------------


def load1() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# ---------------------------------------------------------------------------------------------
# Row 1: concurrent API writers against a real server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def trame_server(url: str, log_path: str) -> Any:
    """``trame serve`` (core.cli) on a free loopback port, in its own process; yields the base URL."""
    import httpx

    port = free_port()
    env = {**os.environ, "TRAME_DATABASE_URL": url, "TRAME_SECRET_KEY": "engine-bench"}
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "core.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trame serve did not start (exit {proc.poll()}); see {log_path}")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def setup_api_store(url: str) -> tuple[str, int]:
    """A territory with the annuaire, a coordinator and an API token: (token, log position before the run)."""
    trame = open_trame(url)
    try:
        trame.territories.create(API_SLUG, "Territoire du bench (API)", author=SYSTEM)
        trame.territories.enable(API_SLUG, "annuaire", author=SYSTEM)
        account = trame.accounts.create(API_EMAIL, "mot-de-passe-du-bench-api")
        trame.accounts.grant(account, API_SLUG, "coordinator", author=SYSTEM)
        token = trame.accounts.issue_token(account, "engine bench", author=SYSTEM)
        return token, trame.store.max_position()
    finally:
        trame.close()


@dataclass
class Req:
    scenario: str
    writer: int
    kind: str  # create / edit
    marker: str
    sheet: str | None
    if_match: int | None
    status: int = 0  # 0: no answer (transport error)
    ms: float = 0.0
    error: str = ""


@dataclass
class ApiScenario:
    backend: str
    scenario: str  # "own" (one writer per sheet) or "shared" (two writers per sheet)
    reqs: list[Req] = field(default_factory=list)
    reads: int = 0
    read_errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # from the store
    lost: list[Req] = field(default_factory=list)
    duplicated: list[tuple[Req, int]] = field(default_factory=list)
    wrote_5xx: list[Req] = field(default_factory=list)
    wrote_409: list[Req] = field(default_factory=list)
    wrote_other: list[Req] = field(default_factory=list)  # 4xx (not 409) or no answer, yet in the store
    spurious_409: list[Req] = field(default_factory=list)
    legit_409: int = 0
    projection_mismatch: list[str] = field(default_factory=list)
    unknown_markers: int = 0

    def count(self, pred: Callable[[int], bool]) -> int:
        return sum(1 for r in self.reqs if pred(r.status))


SHEET_KINDS = ["association", "ccas", "centre-social", "mission-locale", "chrs", "association-caritative"]


def _create_body(marker: str, rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"Structure {marker}",
        "kind": rng.choice(SHEET_KINDS),
        "communes": rng.sample(ab.REAL_COMMUNES[:60], rng.randrange(1, 4)),
        "missions": "Accueil, orientation et accompagnement des personnes en difficulté",
        "publics": rng.sample(ab.PUBLICS, 2),
        "email": "accueil@structure.example",
        "phone": "01 23 45 67 89",
    }


def _writer(
    base: str,
    token: str,
    scenario: str,
    w: int,
    run_id: str,
    max_requests: int,
    deadline_box: list[float],
    shared: list[str],
    out: ApiScenario,
    lock: threading.Lock,
    start: threading.Barrier,
) -> None:
    import httpx

    rng = random.Random(w * 7919 + (0 if scenario == "own" else 1))
    api = f"/api/v1/territories/{API_SLUG}/structures"
    mine: list[Req] = []
    reads = 0
    read_errors: Counter[str] = Counter()
    sheet: str | None = None
    version = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:

        def current(sid: str) -> int | None:
            nonlocal reads
            reads += 1
            try:
                r = client.get(f"{api}/{sid}")
            except httpx.TransportError as exc:
                read_errors[type(exc).__name__] += 1
                return None
            if r.status_code != 200:
                read_errors[str(r.status_code)] += 1
                return None
            return int(r.headers["etag"].strip('W/"'))

        start.wait()
        deadline = deadline_box[0]
        for i in range(max_requests):
            if time.monotonic() > deadline:
                break
            marker = f"EB{run_id}-{scenario}-w{w:02d}-n{i:05d}"
            if scenario == "shared":
                sheet = shared[w // 2]
                got = current(sheet)
                if got is None:
                    continue
                version = got
            if sheet is None or (scenario == "own" and i % 4 == 0):
                req = Req(scenario, w, "create", marker, None, None)
                method, path, body, headers = "POST", api, _create_body(marker, rng), {}
            else:
                req = Req(scenario, w, "edit", marker, sheet, version)
                method, path = "PATCH", f"{api}/{sheet}"
                body, headers = {"missions": f"Mission mise à jour {marker}"}, {"If-Match": f'"{version}"'}
            t0 = time.perf_counter()
            try:
                r = client.request(method, path, json=body, headers=headers)
                req.status = r.status_code
                if r.status_code >= 300:
                    req.error = r.text[:300]
            except httpx.TransportError as exc:
                req.error = f"{type(exc).__name__}: {exc}"
            req.ms = (time.perf_counter() - t0) * 1000
            mine.append(req)
            if 200 <= req.status < 300:
                data = r.json()
                if req.kind == "create":
                    sheet, version = data["id"], int(data["version"])
                    req.sheet = sheet
                else:
                    version = int(data["version"])
            elif scenario == "own" and sheet is not None and req.kind == "edit":
                got = current(sheet)  # resynchronise after a refusal or an error
                if got is not None:
                    version = got
    with lock:
        out.reqs.extend(mine)
        out.reads += reads
        out.read_errors.update(read_errors)


def run_api_scenario(
    backend: str, url: str, base: str, token: str, scenario: str, writers: int, max_requests: int, seconds: float, run_id: str
) -> ApiScenario:
    import httpx

    out = ApiScenario(backend, scenario)
    shared: list[str] = []
    if scenario == "shared":  # one sheet per pair of writers, created before the clock starts
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for k in range((writers + 1) // 2):
                r = client.post(
                    f"/api/v1/territories/{API_SLUG}/structures",
                    json=_create_body(f"EB{run_id}-shared-setup-{k}", random.Random(k)),
                )
                r.raise_for_status()
                shared.append(r.json()["id"])
    lock = threading.Lock()
    deadline_box: list[float] = []
    # The clock starts when every writer is ready (clients built), for all of them at once.
    barrier = threading.Barrier(writers + 1, action=lambda: deadline_box.append(time.monotonic() + seconds))
    threads = []
    for w in range(writers):
        t = threading.Thread(
            target=_writer, args=(base, token, scenario, w, run_id, max_requests, deadline_box, shared, out, lock, barrier), daemon=True
        )
        t.start()
        threads.append(t)
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    out.seconds = time.perf_counter() - t0
    return out


MARKER = re.compile(rb"EB[0-9a-f]{6}-(?:own|shared)-w\d\d-n\d{5}")


def verify_api(url: str, after: int, scenarios: list[ApiScenario]) -> None:
    """Count every marker in the events written since ``after`` against the answers."""
    from plugins.annuaire.service import directory

    trame = open_trame(url)
    try:
        seen: Counter[str] = Counter()
        stream_versions: dict[str, set[int]] = defaultdict(set)
        by_version: dict[tuple[str, int], str] = {}
        position = after
        while True:
            rows = trame.store.raw(position, 5000)
            if not rows:
                break
            for _pos, sid, ver, _topic, state in rows:
                stream_versions[str(sid)].add(ver)
                for m in MARKER.findall(state):
                    seen[m.decode()] += 1
                    by_version[(str(sid), ver)] = m.decode()
            position = rows[-1][0]
        markers = {r.marker for s in scenarios for r in s.reqs}
        for s in scenarios:
            for r in s.reqs:
                n = seen.get(r.marker, 0)
                ok = 200 <= r.status < 300
                if ok and n == 0:
                    s.lost.append(r)
                if n > 1:
                    s.duplicated.append((r, n))
                if not ok and n:
                    if r.status >= 500:
                        s.wrote_5xx.append(r)
                    elif r.status == 409:
                        s.wrote_409.append(r)
                    else:
                        s.wrote_other.append(r)
                if r.status == 409 and not n:
                    if s.scenario == "own":
                        s.spurious_409.append(r)  # one writer per sheet: the version sent was its own last one
                    else:
                        taker = by_version.get((r.sheet or "", (r.if_match or 0) + 1))
                        if taker is not None and taker != r.marker:
                            s.legit_409 += 1
                        else:
                            s.spurious_409.append(r)  # nobody else took the next version
            s.unknown_markers = sum(1 for m in seen if f"-{s.scenario}-" in m and m not in markers and "setup" not in m)
        # The read model must end at the stream's version for every sheet written (exactly-once projection).
        d = directory(trame)
        for s in scenarios:
            for sheet_id in sorted({r.sheet for r in s.reqs if r.sheet}):
                found = d.get_structure(API_SLUG, sheet_id)
                expected = max(stream_versions.get(sheet_id, {0}))
                if found is None or found.version != expected:
                    s.projection_mismatch.append(f"{sheet_id}: read model v{found.version if found else None}, log v{expected}")
    finally:
        trame.close()


def bench_api(stores: Stores, args: argparse.Namespace) -> tuple[list[ApiScenario], dict[str, str]]:
    results: list[ApiScenario] = []
    notes: dict[str, str] = {}
    backends = [("sqlite", stores.sqlite_url("api"))]
    if stores.pg:
        backends.append(("postgresql", stores.pg_schema_url("api")))
    for backend, url in backends:
        run_id = uuid.uuid4().hex[:6]
        token, after = setup_api_store(url)
        log_path = os.path.join(stores.root, f"serve-{backend}.log")
        scenarios = []
        try:
            with trame_server(url, log_path) as base:
                for scenario in ("own", "shared"):
                    progress(f"row 1 {backend}: {args.writers} writers, scenario {scenario}, up to {args.api_seconds:.0f}s")
                    s = run_api_scenario(backend, url, base, token, scenario, args.writers, args.api_requests, args.api_seconds, run_id)
                    progress(
                        f"row 1 {backend} {scenario}: {len(s.reqs)} requests in {s.seconds:.1f}s, "
                        f"2xx {s.count(lambda c: 200 <= c < 300)}, 409 {s.count(lambda c: c == 409)}, "
                        f"5xx {s.count(lambda c: c >= 500)}, no answer {s.count(lambda c: c == 0)}"
                    )
                    scenarios.append(s)
            verify_api(url, after, scenarios)
        except Exception as exc:
            notes[backend] = f"{type(exc).__name__}: {exc}"
            progress(f"row 1 {backend} failed: {exc}")
        text = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
        tracebacks = text.count("Traceback (most recent call last)")
        errors = [ln for ln in text.splitlines() if re.match(r"^(\w*Error|\w*Exception|ERROR)\b", ln) or "Error:" in ln[:80]]
        if tracebacks or errors:
            first = Counter(ln.strip()[:200] for ln in errors).most_common(5)
            notes[f"{backend} server log"] = f"{tracebacks} tracebacks; " + "; ".join(f"{n}x `{ln}`" for ln, n in first)
        results += scenarios
        stores.drop(url)
    return results, notes


# ---------------------------------------------------------------------------------------------
# Row 2: one command, Trame.execute vs EventStore.append
# ---------------------------------------------------------------------------------------------


@dataclass
class CommandPlan:
    territory: str
    warmup: int
    items: list[tuple[Context, Write]]


def build_command_plan(n: int, seed: int) -> CommandPlan:
    """Half new sheets (StructureJoined), half edits of a sheet created earlier (StructureChanged)."""
    from plugins.annuaire.events import Sheet, SheetChanges, StructureChanged, StructureJoined

    rng = random.Random(seed)
    warmup = max(10, n // 10)
    items: list[tuple[Context, Write]] = []
    versions: dict[str, int] = {}
    created: list[str] = []
    for i in range(warmup + n):
        ctx = Context(author=SYSTEM, territory=API_SLUG)
        if i % 2 == 0 or not created:
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            commune = rng.choice(ab.REAL_COMMUNES[:80])
            sheet = Sheet(
                name=f"{rng.choice(['Association', 'Centre social', 'Épicerie solidaire', 'CCAS'])} {rng.choice(ab.FLOWERS)} de {commune}",
                kind=rng.choice(SHEET_KINDS),
                communes=[commune],
                missions="Accueil, orientation et accompagnement des personnes en difficulté",
                publics=rng.sample(ab.PUBLICS, 2),
                themes=rng.sample(ab.THEME_KEYS, 2),
                email="accueil@structure.example",
                phone="01 23 45 67 89",
            )
            items.append((ctx, Write(uuid.UUID(sid), 0, [StructureJoined(structure_id=sid, sheet=sheet)])))
            versions[sid] = 1
            created.append(sid)
        else:
            sid = rng.choice(created)
            change = StructureChanged(
                structure_id=sid, changes=SheetChanges(phone=f"01 {rng.randrange(10, 99)} {rng.randrange(10, 99)} 00 00")
            )
            items.append((ctx, Write(uuid.UUID(sid), versions[sid], [change])))
            versions[sid] += 1
    return CommandPlan(API_SLUG, warmup, items)


def one_command_sample(stores: Stores, plan: CommandPlan, method: str, k: int) -> tuple[float, list[float], float]:
    """A fresh SQLite store with the territory; (commands/s, per-command ms, commands per CPU-s)."""
    url = stores.sqlite_url(f"cmd-{method}-{k}")
    trame = open_trame(url)
    try:
        trame.territories.create(API_SLUG, "Territoire du bench", author=SYSTEM)
        trame.territories.enable(API_SLUG, "annuaire", author=SYSTEM)
        call = trame.execute if method == "execute" else trame.store.append
        for ctx, write in plan.items[: plan.warmup]:
            call(ctx, write)
        timed = plan.items[plan.warmup :]
        lat = []
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        for ctx, write in timed:
            t = time.perf_counter()
            call(ctx, write)
            lat.append((time.perf_counter() - t) * 1000)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if method == "execute":  # the read model has every sheet, at its version
            behind = {n: p for n, p in trame.runner.positions().items() if p < trame.store.max_position()}
            if behind and any(n.startswith("annuaire") for n in behind):
                raise AssertionError(f"projections behind after Trame.execute: {behind}")
        return len(timed) / elapsed, lat, len(timed) / max(cpu, 1e-9)
    finally:
        trame.close()
        with contextlib.suppress(OSError):
            for suffix in ("", "-wal", "-shm"):
                os.remove(sqlite_path(url) + suffix)


@dataclass
class CommandResult:
    commands: int
    rate: dict[str, list[float]]
    cpu: dict[str, list[float]]
    lat: dict[str, list[float]]


def bench_commands(stores: Stores, args: argparse.Namespace) -> CommandResult:
    plan = build_command_plan(args.commands, args.seed + 2)
    methods = ("execute", "append")
    res = CommandResult(len(plan.items) - plan.warmup, {m: [] for m in methods}, {m: [] for m in methods}, {m: [] for m in methods})
    for r in range(args.repeat):
        order = methods if r % 2 == 0 else methods[::-1]
        for m in order:
            rate, lat, cpu = one_command_sample(stores, plan, m, r)
            res.rate[m].append(rate)
            res.cpu[m].append(cpu)
            res.lat[m].extend(lat)
        progress(f"row 2 repeat {r + 1}/{args.repeat}: execute {res.rate['execute'][-1]:,.0f}/s, append {res.rate['append'][-1]:,.0f}/s")
    return res


# ---------------------------------------------------------------------------------------------
# Rows 3, 4: rebuild of every projection vs reading the log
# ---------------------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    backend: str
    events: int = 0
    rebuild: list[float] = field(default_factory=list)  # events/s
    read: list[float] = field(default_factory=list)  # events/s
    rebuild_cpu: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    applied: int = 0  # projection-events applied per rebuild
    per_projection: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))  # (events, apply s)


@contextlib.contextmanager
def timed_projections(trame: Trame, sink: dict[str, list[float]]) -> Any:
    """Time each projection's ``apply_many`` (the runner's batch entry point) on its instance."""
    wrapped = []
    for name, p in trame.runner.projections.items():
        original = getattr(p, "apply_many", None)
        if original is None:
            continue

        def timed(cur: Any, records: Sequence[Any], _orig: Any = original, _name: str = name) -> Any:
            t = time.perf_counter()
            try:
                return _orig(cur, records)
            finally:
                acc = sink.setdefault(_name, [0.0, 0.0])
                acc[0] += len(records)
                acc[1] += time.perf_counter() - t

        try:
            p.apply_many = timed  # type: ignore[method-assign]
            wrapped.append(p)
        except (AttributeError, TypeError):
            pass
    try:
        yield
    finally:
        for p in wrapped:
            with contextlib.suppress(AttributeError):
                del p.apply_many


def read_log(trame: Trame, batch: int) -> int:
    position = count = 0
    while True:
        records = trame.store.read(position, batch)
        if not records:
            return count
        count += len(records)
        position = records[-1].position


def bench_rebuild(trame: Trame, backend: str, repeat: int) -> RebuildResult:
    res = RebuildResult(backend)
    runner = trame.runner
    batch = int(getattr(runner, "rebuild_batch", runner.batch))
    res.events = read_log(trame, batch)  # also warms the page cache
    for r in range(repeat):
        order = ("rebuild", "read") if r % 2 == 0 else ("read", "rebuild")
        for kind in order:
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            if kind == "rebuild":
                sink: dict[str, list[float]] = {}
                with timed_projections(trame, sink):
                    applied = runner.rebuild()
                dt, cpu = time.perf_counter() - t0, time.process_time() - c0
                res.rebuild.append(res.events / dt)
                res.rebuild_cpu.append(res.events / max(cpu, 1e-9))
                res.seconds.append(dt)
                res.applied = applied
                for name, (n, s) in sink.items():
                    res.per_projection[name].append((int(n), s))
            else:
                n = read_log(trame, batch)
                dt = time.perf_counter() - t0
                if n != res.events:
                    raise AssertionError(f"{backend}: read {n} events, expected {res.events}")
                res.read.append(n / dt)
        progress(f"row {3 if backend == 'sqlite' else 4} {backend} repeat {r + 1}/{repeat}: rebuild {res.rebuild[-1]:,.0f} ev/s "
                 f"({res.seconds[-1]:.1f}s), read {res.read[-1]:,.0f} ev/s")  # fmt: skip
    behind = {n: p for n, p in runner.positions().items() if p < trame.store.max_position()}
    if behind:
        raise AssertionError(f"{backend}: projections behind the log after rebuild: {behind}")
    return res


def build_bench_store(url: str, events: int, seed: int, structures: int | None = None) -> tuple[Trame, ab.Plan, ab.GenStats]:
    """The annuaire's seeded territory (bench.annuaire_bench), generated through EventStore.append, not projected."""
    n_s = structures or max(200, events // 20)  # the national default's proportions: 100k structures for 2M events
    n_p = 3 * n_s
    plan = ab.build_plan(seed, n_s, n_p, events)
    trame = open_trame(url)
    trame.territories.create(ab.TERRITORY, "Territoire national (bench)", author=SYSTEM)
    trame.territories.enable(ab.TERRITORY, "annuaire", author=SYSTEM)
    account = trame.accounts.create("bench@exemple.fr", ab.PASSWORD)  # bench/directory_bench.py signs in with it
    trame.accounts.grant(account, ab.TERRITORY, "member", author=SYSTEM)
    gen = ab.generate(trame, plan)
    return trame, plan, gen


def copy_store(src: Trame, dst: Trame) -> int:
    """Keys, then the log byte for byte (what ``trame export`` / ``trame import`` do)."""
    from eventsourcing.persistence import StoredEvent

    keys = src.keys.export()
    with dst.db.write() as cur:  # one transaction (SubjectKeys.restore takes one per key)
        for i in range(0, len(keys), 5000):
            cur.executemany(
                "INSERT INTO subject_keys (subject_id, key_b64) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING", keys[i : i + 5000]
            )
    after = copied = 0
    while True:
        rows = src.store.raw(after, 5000)
        if not rows:
            return copied
        dst.store.append_stored([StoredEvent(sid, ver, topic, state) for _pos, sid, ver, topic, state in rows])
        copied += len(rows)
        after = rows[-1][0]


# ---------------------------------------------------------------------------------------------
# Row 5: append, full stack vs the library's recorder (bench.core_bench)
# ---------------------------------------------------------------------------------------------


def bench_appends(stores: Stores, args: argparse.Namespace) -> list[cb.AppendResult]:
    plan = cb.build_append_plan(args.appends, 1, args.seed + 1)
    out: list[cb.AppendResult] = []
    backends: list[cb.Backend] = [cb.SQLiteBackend(args.tmpdir)]
    if stores.pg:
        backends.append(cb.PostgresBackend(stores.pg_url))
    try:
        for b in backends:
            progress(f"row 5 {b.name}: {args.appends} appends x {args.repeat} repeats x 3 methods")
            out += cb.bench_append(b, {1: plan}, args.repeat)
    finally:
        for b in backends:
            with contextlib.suppress(Exception):
                b.close()
    return out


# ---------------------------------------------------------------------------------------------
# Row 6: the directory page with wrk (bench/directory_bench.py)
# ---------------------------------------------------------------------------------------------


@dataclass
class PageRow:
    store: str
    page: str
    trame: float
    bare: float
    ratio: float
    runs: str
    tx_sql: str


def bench_directory(stores: dict[str, str], args: argparse.Namespace) -> tuple[list[PageRow], str]:
    script = REPO / "bench" / "directory_bench.py"
    if not script.exists():
        return [], "bench/directory_bench.py is absent: row 6 not measured"
    if shutil.which("wrk") is None:
        return [], "wrk is not installed (apt-get install -y wrk): row 6 not measured"
    cmd = [sys.executable, "-m", "bench.directory_bench", "--only", "first", "--runs", str(args.page_runs)]
    cmd += ["--duration", str(args.page_seconds), "--port", str(free_port())]
    for label, path in stores.items():
        cmd += ["--store", f"{label}={path}"]
    progress(f"row 6: {' '.join(cmd[1:])}")
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
    rows = []
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[0] in stores:
            try:
                rows.append(
                    PageRow(
                        cells[0],
                        cells[1],
                        float(cells[2].replace(",", "")),
                        float(cells[3].replace(",", "")),
                        float(cells[4]),
                        cells[5],
                        cells[6],
                    )
                )
            except ValueError:
                continue
    note = (
        ""
        if proc.returncode == 0
        else f"bench/directory_bench.py exited {proc.returncode}: " + " ".join(proc.stderr.strip().splitlines()[-3:])
    )
    tail = [ln for ln in proc.stdout.splitlines() if ln.startswith("wrk ")]
    if tail:
        note = (note + " " if note else "") + tail[0]
    return rows, note


# ---------------------------------------------------------------------------------------------
# Row 7: search as of a past date vs today
# ---------------------------------------------------------------------------------------------


@dataclass
class SearchResult:
    backend: str
    past: list[float] = field(default_factory=list)
    today: list[float] = field(default_factory=list)
    past_total: int = 0
    today_total: int = 0


def bench_search(trame: Trame, backend: str, queries: int) -> SearchResult:
    from plugins.annuaire.service import directory

    d = directory(trame)
    at = clock.parse("2010-06-01", end_of_day=True)  # what the page makes of ?as_of=2010-06-01
    res = SearchResult(backend)

    def past() -> int:
        return d.list_structures(ab.TERRITORY, "pole emploi", as_of=at, limit=50)[1]

    def today() -> int:
        return d.list_structures(ab.TERRITORY, "pole emploi", limit=50)[1]

    for _ in range(3):
        past(), today()
    gc.collect()
    for i in range(queries):
        for name, fn, sink in (("past", past, res.past), ("today", today, res.today))[:: 1 if i % 2 == 0 else -1]:
            t = time.perf_counter()
            total = fn()
            sink.append((time.perf_counter() - t) * 1000)
            if name == "past":
                res.past_total = total
            else:
                res.today_total = total
    return res


# ---------------------------------------------------------------------------------------------
# Row 8: storage
# ---------------------------------------------------------------------------------------------


@dataclass
class Storage:
    backend: str
    events: int
    total: int  # bytes (SQLite: file + WAL; PostgreSQL: all relations of the schema)
    live: int  # bytes in use (SQLite: dbstat; PostgreSQL: = total)
    tables: list[tuple[str, int, int, str]] = field(default_factory=list)  # (table, bytes, rows, what)
    columns: dict[str, list[str]] = field(default_factory=dict)


COPY_COLUMNS = {
    "state": "the whole state at that interval (JSON)",
    "data": "the event's payload (JSON)",
    "patch": "the event's changes (JSON)",
    "changes": "before/after of each changed field (JSON)",
}


def classify(trame: Trame) -> dict[str, str]:
    what = {
        "stored_events": "the event log (source of truth)",
        "subject_keys": "per-person keys (not derivable: erasing deletes them)",
        "projection_positions": "projection bookkeeping",
    }
    for name, p in trame.runner.projections.items():
        for t in getattr(p, "tables", ()):
            what[t] = f"copy of state: projection `{name}`"
    return what


def storage(trame: Trame, backend: str, events: int) -> Storage:
    what = classify(trame)
    db = trame.db
    with db.read() as cur:
        tables = [r[0] for r in cur.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if db.dialect == "sqlite"
            else "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )]  # fmt: skip
        counts: dict[str, int] = {}
        columns: dict[str, list[str]] = {}
        for t in tables:
            try:
                with db.read() as c2:
                    counts[t] = int(c2.scalar(f'SELECT COUNT(*) FROM "{t}"'))
                    c2.execute(f'SELECT * FROM "{t}" WHERE 1 = 0')
                    columns[t] = [d[0] for d in c2._raw.description] if hasattr(c2, "_raw") else sorted(c2.column_names())
            except Exception:  # noqa: S112 - e.g. a contentless FTS table; the row count is optional
                continue
        if db.dialect == "sqlite":
            path = sqlite_path(trame.settings.database_url)
            total = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
            owner = {r[0]: r[1] for r in cur.rows("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
            sizes: Counter[str] = Counter()
            for name, size in cur.rows("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
                base = owner.get(name, name)
                for t in sorted(tables, key=len, reverse=True):  # FTS shadow tables: annuaire_structure_fts_data -> annuaire_structure_fts
                    if base != t and base.startswith(t + "_") and t not in ("annuaire_structures",) and "fts" in t:
                        base = t
                        break
                sizes[base] += int(size)
            live = sum(sizes.values())
        else:
            sizes = Counter(
                {
                    t: int(
                        cur.scalar(
                            "SELECT pg_total_relation_size((quote_ident(current_schema()) || '.' || quote_ident(?))::regclass)", (t,)
                        )
                    )
                    for t in tables
                }
            )
            total = live = sum(sizes.values())
    st = Storage(backend, events, total, live, columns=columns)
    for t, size in sizes.most_common():
        if t.startswith("sqlite_"):
            label = "SQLite internals"
        else:
            label = what.get(t) or next((v for k, v in what.items() if t.startswith(k + "_")), "other")
        st.tables.append((t, size, counts.get(t, -1), label))
    return st


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


@dataclass
class Metric:
    key: str
    label: str
    value: float | None
    unit: str
    floor: float | None = None
    floor_label: str = ""
    target: str = ""
    higher_better: bool = True

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor


def load_baseline(path: str | None) -> dict[str, float]:
    if not path:
        return {}
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(rf"<!-- {SUMMARY_TAG} (\{{.*?\}}) -->", text, re.S)
    if not m:
        progress(f"--baseline {path}: no {SUMMARY_TAG} block (not an engine_bench report): 'before' left empty")
        return {}
    return {k: v for k, v in json.loads(m.group(1)).get("metrics", {}).items() if isinstance(v, (int, float))}


@dataclass
class Run:
    args: argparse.Namespace
    stores: Stores
    started: str
    load_before: str
    calibration: list[float]
    load_after: str = "?"
    wall: float = 0.0
    api: list[ApiScenario] = field(default_factory=list)
    api_notes: dict[str, str] = field(default_factory=dict)
    commands: CommandResult | None = None
    rebuild: dict[str, RebuildResult] = field(default_factory=dict)
    gen: dict[str, Any] = field(default_factory=dict)
    appends: list[cb.AppendResult] = field(default_factory=list)
    pages: list[PageRow] = field(default_factory=list)
    page_note: str = ""
    page_stores: dict[str, str] = field(default_factory=dict)
    search: dict[str, SearchResult] = field(default_factory=dict)
    storage: dict[str, Storage] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def metrics(run: Run) -> list[Metric]:
    out: list[Metric] = []
    for s in run.api:
        ok = s.count(lambda c: 200 <= c < 300)
        bad = s.count(lambda c: c >= 500 or c == 0) + len(s.lost) + len(s.duplicated) + len(s.wrote_5xx) + len(s.spurious_409)
        out.append(
            Metric(
                f"api.{s.backend}.{s.scenario}.ok_per_s",
                f"1. API writers, {s.backend}, {s.scenario} sheets: 2xx/s",
                ok / s.seconds if s.seconds else None,
                "/s",
            )
        )
        label = f"1. API writers, {s.backend}, {s.scenario} sheets: errors (5xx, no answer, lost, dup, 5xx-wrote, spurious 409)"
        out.append(Metric(f"api.{s.backend}.{s.scenario}.errors", label, float(bad), "", 0.0, "0", "0", higher_better=False))
    c = run.commands
    if c:
        e, a = med(c.rate["execute"]), med(c.rate["append"])
        out.append(
            Metric("cmd.execute_per_s", "2. `Trame.execute`, SQLite: commands/s", e, "/s", a, "`EventStore.append`", "≥ 0.6x and ≥ 2,000/s")
        )
    for backend, r in run.rebuild.items():
        if not r.rebuild:
            continue
        row = 3 if backend == "sqlite" else 4
        if backend == "sqlite":
            out.append(
                Metric(
                    "rebuild.sqlite.ev_per_s",
                    f"3. rebuild, all projections, SQLite, {r.events:,} events: events/s",
                    med(r.rebuild),
                    "/s",
                    med(r.read),
                    "`EventStore.read` of the log",
                )
            )
        else:
            sq = run.rebuild.get("sqlite")
            label = f"{row}. rebuild, all projections, PostgreSQL, {r.events:,} events: events/s"
            floor = med(sq.rebuild) if sq and sq.rebuild else None
            out.append(Metric(f"rebuild.{backend}.ev_per_s", label, med(r.rebuild), "/s", floor, "SQLite rebuild"))
            out.append(
                Metric(f"rebuild.{backend}.read_per_s", f"{row}. `EventStore.read` of the log, PostgreSQL: events/s", med(r.read), "/s")
            )
        for name, samples in sorted(r.per_projection.items(), key=lambda kv: -statistics.median(s for _, s in kv[1])):
            n = samples[0][0]
            secs = med([s for _, s in samples])
            if n and secs >= 0.02 * med(r.seconds):  # the others are in the section's table
                out.append(
                    Metric(
                        f"rebuild.{backend}.{name}.ev_per_s",
                        f"{row}. … `{name}` alone ({n:,} events, apply_many): events/s",
                        n / secs if secs else None,
                        "/s",
                    )
                )
    for ar in run.appends:
        f, lib = med(ar.samples["full"]), med(ar.samples["library"])
        out.append(
            Metric(
                f"append.{ar.backend}.per_s",
                f"5. append, 1 event, {ar.backend}: `EventStore.append` events/s",
                f,
                "/s",
                lib,
                "`recorder.insert_events`",
                "≥ 0.5x",
            )
        )
    for p in run.pages:
        out.append(
            Metric(
                f"page.{p.store}.req_per_s",
                f"6. directory page, {p.store} ({run.page_stores.get(p.store, '')}): req/s",
                p.trame,
                "/s",
                p.bare,
                "bare Litestar + Jinja",
            )
        )
    for backend, sr in run.search.items():
        out.append(
            Metric(
                f"search.{backend}.past_p95_ms",
                f"7. search 'pole emploi' as of 2010-06-01, {backend}: p95",
                pct(sr.past, 0.95),
                " ms",
                pct(sr.today, 0.95),
                "same search today",
                "< 50 ms",
                False,
            )
        )
        out.append(
            Metric(
                f"search.{backend}.past_p50_ms", "7. … p50", pct(sr.past, 0.5), " ms", pct(sr.today, 0.5), "same search today", "", False
            )
        )
    for backend, st in run.storage.items():
        log = next((b for t, b, _, _ in st.tables if t == "stored_events"), None)
        out.append(
            Metric(
                f"storage.{backend}.bytes_per_event",
                f"8. storage, {backend}: bytes per event (all tables)",
                st.live / st.events,
                " B",
                (log or 0) / st.events or None,
                "the event log alone",
                "",
                False,
            )
        )
    return out


def report(run: Run) -> str:
    a = run.args
    L: list[str] = [f"# Trame engine bench, {run.started}", ""]
    L.append(
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; "
        f"eventsourcing {dist_version('eventsourcing')}, msgspec {dist_version('msgspec')}, litestar {dist_version('litestar')}, uvicorn "
        f"{dist_version('uvicorn')}, psycopg {dist_version('psycopg')}"
    )
    L.append(f"- PostgreSQL: {run.stores.pg_label if run.stores.pg else '**SKIPPED**: ' + str(run.stores.pg_error)}")
    cal = run.calibration
    busy = max(cal) / min(cal) > 1.5
    with contextlib.suppress(ValueError):
        busy |= float(run.load_before.split(" / ")[0]) > (os.cpu_count() or 1) - 0.5
    L.append(
        f"- machine load (1/5/15 min) before {run.load_before}, after {run.load_after}; calibration loop (1M additions) "
        f"{med(cal):.0f} ms median, best {min(cal):.0f}, worst {max(cal):.0f}"
        + (
            ". **The machine was busy: wall-clock figures are pessimistic; compare ratios (each row's floor ran interleaved with it).**"
            if busy
            else "."
        )
    )
    mode = "quick (smoke run)" if a.quick else "full"
    L.append(
        f"- {mode}: {a.events:,} events requested, seed {a.seed}, {a.repeat} repeats ({a.rebuild_repeat} rebuilds on SQLite, "
        f"{a.pg_rebuild_repeat} on PostgreSQL); "
        f"medians, `±` is half the min–max range relative to the median. Whole run {run.wall:.0f}s. Rows run: {','.join(map(str, a.rows))}."
    )
    for k, v in run.errors.items():
        L.append(f"- **{k} failed**: {v}")
    baseline = load_baseline(a.baseline)
    ms = metrics(run)
    L += ["", "## Summary: before / after / floor / ratio", ""]
    if a.baseline:
        L.append(f"`before` is from `{a.baseline}`" + ("" if baseline else " (no engine-bench summary found in it)") + ".")
        L.append("")
    L.append("| measure | before | after | floor | floor is | after / floor | target |")
    L.append("|---|---:|---:|---:|---|---:|---|")
    for m in ms:
        before = baseline.get(m.key)
        L.append(
            f"| {m.label} | {fmt(before, m.unit)} | {fmt(m.value, m.unit)} | {fmt(m.floor, m.unit) if m.floor is not None else '-'} "
            f"| {m.floor_label or '-'} | {fmt(m.ratio) + 'x' if m.ratio is not None else '-'} | {m.target or '-'} |"
        )
    # -- row 1
    L += ["", "## 1. Concurrent API writers (a real `trame serve`)", ""]
    if run.api:
        L.append(
            f"{a.writers} threads (httpx, keep-alive), each at most {a.api_requests} write requests or {a.api_seconds:.0f} s. "
            "*own*: each writer creates sheets (`POST /api/v1/territories/{slug}/structures`) and edits them (`PATCH .../structures/{id}`, "
            "`If-Match` = the version of its own last 2xx answer: every 409 is spurious). *shared*: writers in pairs, each pair on one "
            "sheet: `GET` (ETag) then `PATCH` with it; a 409 is legitimate when another request took the next version. Every write "
            "carries a unique marker (the name or the missions text); after the run the markers are counted in the events of the store."
        )
        L.append("")
        L.append(
            "| backend | sheets | requests | 2xx | 409 (legit / spurious) | other 4xx | 5xx | no answer | 2xx/s | p50 / p95 ms | lost | "
            "duplicated | 5xx that wrote | 409/4xx that wrote | read model ≠ log |"
        )
        L.append("|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
        for s in run.api:
            lat = [r.ms for r in s.reqs if r.status]
            other4 = s.count(lambda c: 400 <= c < 500 and c != 409)
            L.append(
                f"| {s.backend} | {s.scenario} | {len(s.reqs):,} | {s.count(lambda c: 200 <= c < 300):,} | {s.count(lambda c: c == 409)} "
                f"({s.legit_409} / {len(s.spurious_409)}) | {other4} | {s.count(lambda c: c >= 500)} | {s.count(lambda c: c == 0)} "
                f"| {s.count(lambda c: 200 <= c < 300) / s.seconds:,.0f} | {pct(lat, 0.5):.0f} / {pct(lat, 0.95):.0f} | {len(s.lost)} "
                f"| {len(s.duplicated)} | {len(s.wrote_5xx)} | {len(s.wrote_409) + len(s.wrote_other)} | {len(s.projection_mismatch)} |"
            )
        L.append("")
        for s in run.api:
            problems = []
            bad = [r for r in s.reqs if r.status >= 500 or r.status == 0 or (400 <= r.status < 500 and r.status != 409)]
            if bad:
                kinds_ = Counter(f"{r.kind} → {r.status or 'no answer'}: {' '.join(r.error.split())[:160]}" for r in bad)
                problems += [f"{n}x {k}" for k, n in kinds_.most_common(4)]
            problems += [f"lost: {r.kind} {r.marker} ({r.status})" for r in s.lost[:3]]
            problems += [f"duplicated {n}x: {r.marker}" for r, n in s.duplicated[:3]]
            problems += [f"5xx that wrote: {r.kind} {r.marker} ({r.status})" for r in s.wrote_5xx[:3]]
            problems += [f"spurious 409: {r.kind} of {r.sheet} If-Match {r.if_match}" for r in s.spurious_409[:3]]
            problems += [f"read model ≠ log: {x}" for x in s.projection_mismatch[:3]]
            if s.read_errors:
                problems.append(f"GET errors: {dict(s.read_errors)}")
            if s.unknown_markers:
                problems.append(f"{s.unknown_markers} markers in the store that no request sent")
            if problems:
                L.append(f"- **{s.backend} / {s.scenario}**: " + "; ".join(problems))
        for k, v in run.api_notes.items():
            L.append(f"- **{k}**: {v}")
        if not any(True for _ in run.api_notes) and all(
            not (s.lost or s.duplicated or s.wrote_5xx or s.spurious_409 or s.projection_mismatch) for s in run.api
        ):
            L.append("- No lost, duplicated or spurious write; every read model ended at its stream's version.")
    else:
        L.append("Not run.")
    # -- row 2
    L += ["", "## 2. One command on the web path, SQLite", ""]
    c = run.commands
    if c:
        e, ap = c.rate["execute"], c.rate["append"]
        L.append("| method | commands/s | CPU view (per CPU-s) | p50 / p95 ms per command | ratio to append | target |")
        L.append("|---|---:|---:|---|---:|---|")
        L.append(
            f"| `Trame.execute` (append + inline projection) | {cell(e)} | {med(c.cpu['execute']):,.0f} | "
            f"{pct(c.lat['execute'], 0.5):.2f} / {pct(c.lat['execute'], 0.95):.2f} "
            f"| {med(e) / med(ap):.2f} | ≥ 0.6x: {cb.verdict(med(e) / med(ap) >= EXECUTE_TARGET_RATIO)}; ≥ 2,000/s: "
            f"{cb.verdict(med(e) >= EXECUTE_TARGET_RATE)} |"
        )
        L.append(
            f"| `EventStore.append` (floor) | {cell(ap)} | {med(c.cpu['append']):,.0f} | {pct(c.lat['append'], 0.5):.2f} / "
            f"{pct(c.lat['append'], 0.95):.2f} | 1 | |"
        )
        L.append("")
        L.append(
            f"- {c.commands:,} timed commands per sample after warm-up, a fresh store per sample (territory + annuaire), samples of the "
            "two "
            "methods interleaved. Commands alternate a new sheet (`annuaire.StructureJoined`) and an edit of an earlier one "
            "(`annuaire.StructureChanged`), pre-built; the same list for both methods."
        )
    else:
        L.append("Not run.")
    # -- rows 3, 4
    L += ["", "## 3-4. `trame rebuild` of every projection", ""]
    if run.rebuild:
        for backend, g in run.gen.items():
            L.append(f"- {backend} store: {g}")
        L.append("")
        L.append("| backend | events | rebuild events/s | seconds | CPU view | `EventStore.read` events/s (floor) | rebuild / read |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for backend, r in run.rebuild.items():
            if r.rebuild:
                L.append(
                    f"| {backend} | {r.events:,} | {cell(r.rebuild)} | {med(r.seconds):.1f} | {med(r.rebuild_cpu):,.0f} | {cell(r.read)} "
                    f"| {med(r.rebuild) / med(r.read):.3f} |"
                )
        sq, pg = run.rebuild.get("sqlite"), run.rebuild.get("postgresql")
        if sq and pg and sq.rebuild and pg.rebuild:
            L.append("")
            L.append(f"PostgreSQL / SQLite rebuild: **{med(pg.rebuild) / med(sq.rebuild):.2f}x** (the same events, copied byte for byte).")
        for backend, r in run.rebuild.items():
            if not r.per_projection:
                continue
            L += [
                "",
                f"Per projection, {backend} (time inside its `apply_many`, median of the rebuilds; the rest is reading and decoding the "
                "log, commits, index builds, the runner):",
                "",
            ]
            L.append("| projection | events applied | apply s | events/s | share of the rebuild |")
            L.append("|---|---:|---:|---:|---:|")
            whole = med(r.seconds)
            rows_ = sorted(r.per_projection.items(), key=lambda kv: -med([s for _, s in kv[1]]))
            used = 0.0
            for name, samples in rows_:
                n, secs = samples[0][0], med([s for _, s in samples])
                used += secs
                L.append(f"| `{name}` | {n:,} | {secs:.2f} | {fmt(n / secs if secs else None)} | {secs / whole * 100:.0f}% |")
            L.append(
                f"| rest (read, decode, commit, indexes, runner) | | {max(0.0, whole - used):.2f} | | "
                f"{max(0.0, whole - used) / whole * 100:.0f}% |"
            )
        L.append("")
        L.append(
            "- `trame.runner.rebuild()`, what `trame rebuild` calls (in-process, so that each projection's `apply_many` can be timed); "
            "samples interleaved with `EventStore.read` over the whole log in the rebuild's batch size."
        )
    else:
        L.append("Not run.")
    # -- row 5
    L += ["", "## 5. Append, 1 event per append (bench.core_bench's measure)", ""]
    if run.appends:
        L.append("| backend | `EventStore.append` | `recorder.insert_events` (floor) | raw SQL | full / library | full ≥ 0.5× library |")
        L.append("|---|---:|---:|---:|---:|---|")
        for x in run.appends:
            f, lib = med(x.samples["full"]), med(x.samples["library"])
            L.append(
                f"| {x.backend} | {cell(x.samples['full'])} | {cell(x.samples['library'])} | {cell(x.samples['sql'])} | {f / lib:.2f} | "
                f"{cb.verdict(f / lib >= 0.5)} |"
            )
        L.append("")
        L.append(
            f"- {run.appends[0].appends:,} timed appends per sample, a fresh store per sample, the three methods interleaved; events/s. "
            "See bench/README.md (core bench) for the method."
        )
    else:
        L.append("Not run.")
    # -- row 6
    L += ["", "## 6. Directory page, one uvicorn worker, wrk (bench/directory_bench.py)", ""]
    if run.pages:
        L.append(
            "| store | page | Trame req/s | bare Litestar + Jinja req/s | ratio | runs (Trame / bare) | read tx / statements per request |"
        )
        L.append("|---|---|---:|---:|---:|---|---|")
        for p in run.pages:
            L.append(
                f"| {p.store} ({run.page_stores.get(p.store, '')}) | {p.page} | {p.trame:,.0f} | {p.bare:,.0f} | {p.ratio:.2f} | {p.runs} "
                f"| {p.tx_sql} |"
            )
        L.append("")
    if run.page_note:
        L.append(f"- {run.page_note}")
    if not run.pages and not run.page_note:
        L.append("Not measured.")
    L.append(
        f"- `python -m bench.directory_bench --only first --runs {a.page_runs} --duration {a.page_seconds}`: the first page of "
        "`/t/national/annuaire/` signed in as a member, and a bare page of the same byte size, alternated, one worker each."
    )
    # -- row 7
    L += ["", "## 7. Search as of a past date", ""]
    if run.search:
        L.append("| backend | query | p50 ms | p95 ms | matches | past / today (p95) |")
        L.append("|---|---|---:|---:|---:|---:|")
        for backend, sr in run.search.items():
            L.append(
                f"| {backend} | 'pole emploi' as of 2010-06-01 | {pct(sr.past, 0.5):.2f} | {pct(sr.past, 0.95):.2f} | {sr.past_total:,} | "
                f"{pct(sr.past, 0.95) / pct(sr.today, 0.95):.2f} |"
            )
            L.append(
                f"| {backend} | 'pole emploi' today (floor) | {pct(sr.today, 0.5):.2f} | {pct(sr.today, 0.95):.2f} "
                f"| {sr.today_total:,} | 1 |"
            )
        L.append("")
        L.append(
            "- `directory(trame).list_structures(territory, 'pole emploi', as_of=..., limit=50)` (what the directory page calls), "
            f"{a.queries} of each, interleaved, on the bench store."
        )
    else:
        L.append("Not run.")
    # -- row 8
    L += ["", "## 8. Storage", ""]
    if run.storage:
        for backend, st in run.storage.items():
            L.append(
                f"**{backend}**: {st.events:,} events; {st.total / 1e6:,.1f} MB on disk"
                + (f" ({st.live / 1e6:,.1f} MB in use, the rest free pages left by the rebuilds)" if st.live != st.total else "")
                + f": **{st.live / st.events:,.0f} bytes per event** in use."
            )
            L.append("")
            L.append("| table | bytes (with indexes) | bytes per event | rows | rows per event | what | copy of | columns |")
            L.append("|---|---:|---:|---:|---:|---|---|---|")
            for t, size, rows, what in st.tables:
                if size < 0.002 * st.live:
                    continue
                cols = st.columns.get(t, [])
                if t == "stored_events":
                    copy = "`state`: each event, its envelope and payload (the original)"
                else:
                    copy = ", ".join(f"`{c}`: {COPY_COLUMNS[c]}" for c in cols if c in COPY_COLUMNS) or (
                        "search documents" if "fts" in t or "search" in t else ""
                    )
                shown = f"{rows:,} | {rows / st.events:.2f}" if rows >= 0 else "- | -"
                L.append(
                    f"| `{t}` | {size:,} | {size / st.events:,.0f} | {shown} | {what} | {copy} "
                    f"| {', '.join(cols[:12])}{'…' if len(cols) > 12 else ''} |"
                )
            small = sum(size for _, size, _, _ in st.tables if size < 0.002 * st.live)
            L.append(f"| (others, each < 0.2%) | {small:,} | {small / st.events:,.1f} | | | | | |")
            copies = sum(size for _, size, _, w in st.tables if w.startswith("copy of state"))
            log_b = sum(size for t, size, _, _ in st.tables if t == "stored_events")
            L.append("")
            L.append(
                f"Copies of state (projection tables, all rebuildable from the log): {copies / st.events:,.0f} bytes per event, "
                f"{copies / log_b:.1f}x the log itself ({log_b / st.events:,.0f} bytes per event)."
            )
            L.append("")
        L.append(
            "- SQLite: `dbstat` (pages in use per table, its indexes and FTS shadow tables counted with it); PostgreSQL: "
            "`pg_total_relation_size` (table, indexes, TOAST). Rows per event above 1 mean a table keeps more than one row per event "
            "(e.g. one row per interval of a bitemporal table plus its search documents)."
        )
    else:
        L.append("Not run.")
    summary = {
        "metrics": {m.key: m.value for m in ms if m.value is not None and m.value == m.value},
        "floors": {m.key: m.floor for m in ms if m.floor},
    }
    L += ["", f"<!-- {SUMMARY_TAG} {json.dumps(summary, sort_keys=True)} -->", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.engine_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=None, help="events in the bench store (default 200,000; --quick: about 4,000)")
    ap.add_argument("--quick", action="store_true", help="smoke run, under a minute: small sizes, short and few samples")
    ap.add_argument("--rows", default=",".join(map(str, ALL_ROWS)), help="comma-separated rows to run (default all: 1-8)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="sqlite alone, or sqlite,postgresql (default)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL server (default {DEFAULT_PG_URL}); fresh schemas, dropped")
    ap.add_argument("--repeat", type=int, default=None, help="samples per measure of rows 2 and 5 (default 5; quick 2)")
    ap.add_argument("--rebuild-repeat", type=int, default=None, help="rebuilds on SQLite (default 3; quick 2)")
    ap.add_argument("--pg-rebuild-repeat", type=int, default=None, help="rebuilds on PostgreSQL (default 2; quick 1): it is the slow one")
    ap.add_argument("--writers", type=int, default=16, help="concurrent API writers (default 16)")
    ap.add_argument("--api-requests", type=int, default=None, help="write requests per writer at most (default 250; quick 30)")
    ap.add_argument("--api-seconds", type=float, default=None, help="seconds per API scenario at most (default 20; quick 3)")
    ap.add_argument("--commands", type=int, default=None, help="timed commands per sample, row 2 (default 1,000; quick 200)")
    ap.add_argument("--appends", type=int, default=None, help="timed appends per sample, row 5 (default 1,000; quick 200)")
    ap.add_argument("--queries", type=int, default=None, help="searches of each kind, row 7 (default 200; quick 30)")
    ap.add_argument("--page-runs", type=int, default=None, help="wrk runs per page, row 6 (default 3; quick 1)")
    ap.add_argument("--page-seconds", type=int, default=None, help="seconds per wrk run (default 10; quick 2)")
    ap.add_argument("--seed", type=int, default=20240604)
    ap.add_argument("--tmpdir", default=None, help="where the SQLite files go (default: the system temp dir)")
    ap.add_argument("--baseline", default=None, help="a previous engine_bench report: fills the 'before' column")
    ap.add_argument("--output", default=str(RESULTS), help="markdown report (default bench/results-latest.md)")
    args = ap.parse_args(argv)
    q = args.quick
    defaults = {
        "events": (4_000, 200_000),
        "repeat": (2, 5),
        "rebuild_repeat": (2, 3),
        "pg_rebuild_repeat": (1, 2),
        "api_requests": (30, 250),
        "api_seconds": (2.0, 20.0),
        "commands": (200, 1000),
        "appends": (200, 1000),
        "queries": (30, 200),
        "page_runs": (1, 3),
        "page_seconds": (2, 10),
    }
    for k, (quick, full) in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, quick if q else full)
    try:
        args.rows = sorted({int(x) for x in args.rows.split(",") if x.strip()})
    except ValueError:
        ap.error("--rows: comma-separated numbers 1-8")
    if not set(args.rows) <= set(ALL_ROWS):
        ap.error("--rows: numbers 1-8")
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "sqlite" not in args.backends or not set(args.backends) <= {"sqlite", "postgresql"}:
        ap.error("--backends: sqlite or sqlite,postgresql")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args(argv)
    t_start = time.perf_counter()
    stores = Stores(args.tmpdir, args.pg_url, "postgresql" in args.backends)
    run = Run(args, stores, clock.now()[:19] + "Z", cb.load(), cb.calibrate(3))
    progress(f"load {run.load_before}; rows {args.rows}; {args.events:,} events; PostgreSQL: {stores.pg_label or stores.pg_error}")
    rows = set(args.rows)
    big_events = ab.BIG_EVENTS
    try:
        if 5 in rows:
            try:
                run.appends = bench_appends(stores, args)
            except Exception as exc:
                run.errors["row 5"] = f"{type(exc).__name__}: {exc}"
        if 2 in rows:
            try:
                run.commands = bench_commands(stores, args)
            except Exception as exc:
                run.errors["row 2"] = f"{type(exc).__name__}: {exc}"
        if 1 in rows:
            try:
                run.api, run.api_notes = bench_api(stores, args)
            except Exception as exc:
                run.errors["row 1"] = f"{type(exc).__name__}: {exc}"
        if rows & {3, 4, 6, 7, 8}:
            if args.quick:
                ab.BIG_EVENTS = 500  # the 10,000-event structure would be most of a quick store
            url = stores.sqlite_url("bench")
            progress(f"building the bench store: {args.events:,} events (bench.annuaire_bench's generator, seed {args.seed})")
            t = time.perf_counter()
            trame, plan, gen = build_bench_store(url, args.events, args.seed, structures=300 if args.quick else None)
            n_s = plan.n_structures
            run.gen["sqlite"] = (
                f"{n_s:,} structures, {plan.n_people:,} people, {gen.events:,} annuaire events generated through `EventStore.append` "
                f"in {time.perf_counter() - t:.0f}s (seed {args.seed}; one structure with {ab.BIG_EVENTS:,} events)"
            )
            try:
                if 3 in rows or 4 in rows:
                    run.rebuild["sqlite"] = bench_rebuild(trame, "sqlite", args.rebuild_repeat)
                else:
                    trame.runner.rebuild()
                if 7 in rows:
                    progress("row 7 sqlite: search as of 2010-06-01 vs today")
                    run.search["sqlite"] = bench_search(trame, "sqlite", args.queries)
                if 8 in rows:
                    run.storage["sqlite"] = storage(trame, "sqlite", trame.store.max_position())
                if stores.pg and rows & {4, 7, 8}:
                    pg_url = stores.pg_schema_url("rebuild")
                    pg = open_trame(pg_url)
                    try:
                        t = time.perf_counter()
                        n = copy_store(trame, pg)
                        run.gen["postgresql"] = (
                            f"the SQLite store's {n:,} events and keys copied byte for byte in {time.perf_counter() - t:.0f}s"
                        )
                        progress(f"postgresql: {n:,} events copied")
                        if 4 in rows:
                            run.rebuild["postgresql"] = bench_rebuild(pg, "postgresql", args.pg_rebuild_repeat)
                        else:
                            pg.runner.rebuild()
                        if 7 in rows:
                            progress("row 7 postgresql: search")
                            run.search["postgresql"] = bench_search(pg, "postgresql", args.queries)
                        if 8 in rows:
                            run.storage["postgresql"] = storage(pg, "postgresql", n)
                    except Exception as exc:
                        run.errors["rows 4/7/8 on PostgreSQL"] = f"{type(exc).__name__}: {exc}"
                        import traceback

                        traceback.print_exc()
                    finally:
                        pg.close()
                        stores.drop(pg_url)
            except Exception as exc:
                run.errors["rows 3/7/8"] = f"{type(exc).__name__}: {exc}"
                import traceback

                traceback.print_exc()
            finally:
                trame.close()
            if 6 in rows:
                try:
                    page_stores = {}
                    if n_s > 1500:
                        progress("row 6: building a 1k-structure store")
                        small_url = stores.sqlite_url("dir1k")
                        small, _, _ = build_bench_store(small_url, 1000 * 20, args.seed + 9, structures=1000)
                        small.runner.catch_up()
                        small.close()
                        page_stores["1k"] = sqlite_path(small_url)
                        run.page_stores["1k"] = "1,000 structures"
                    label = f"{n_s // 1000}k" if n_s >= 1000 else str(n_s)
                    page_stores[label] = sqlite_path(url)
                    run.page_stores[label] = f"{n_s:,} structures, the bench store"
                    run.pages, run.page_note = bench_directory(page_stores, args)
                except Exception as exc:
                    run.errors["row 6"] = f"{type(exc).__name__}: {exc}"
    finally:
        ab.BIG_EVENTS = big_events
        run.load_after = cb.load()
        run.calibration += cb.calibrate(3)
        run.wall = time.perf_counter() - t_start
        stores.close()
    text = report(run)
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")
    progress(f"report written to {args.output} ({run.wall:.0f}s)")
    return 1 if run.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
