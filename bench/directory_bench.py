"""Directory page throughput (a benchmark, not a test): one uvicorn worker serving
``/t/<territory>/annuaire/`` beside a bare Litestar + Jinja page of the same size, measured
with ``wrk`` in the same run, alternating the two, and reported as medians and their ratio.

    python -m bench.directory_bench --store 1k=/tmp/s1k.db --store 10k=/tmp/s10k.db
    python -m bench.directory_bench --store 'pg10k=postgresql://postgres@127.0.0.1:5432/test?schema=bench_x'

Stores come from ``python -m bench.annuaire_bench --structures N --build-only`` (territory
``national``, member ``bench@exemple.fr``). For each store: the first page, a deep page
(reached by following ``rel="next"`` links ``--deep`` times), the same deep page as of a past
date, and a search; plus, in-process, the read transactions and SQL statements of one
request. Needs ``wrk`` (``apt-get install -y wrk``); keep it bounded on a shared machine.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import DictLoader, Environment, select_autoescape
from litestar import Litestar, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

EMAIL = "bench@exemple.fr"
PASSWORD = "mot-de-passe-du-bench"  # noqa: S105 - the bench account of bench/annuaire_bench.py
TERRITORY = "national"
ROOT = Path(__file__).resolve().parent.parent


# -- the two apps (uvicorn --factory) ----------------------------------------------------------
def trame_app() -> Any:
    """The real app on ``TRAME_DATABASE_URL``, as ``trame serve`` builds it."""
    from core.application import Trame
    from core.settings import Settings
    from core.web.app import create_app

    trame = Trame(Settings.from_env())
    app = create_app(trame)
    app.on_shutdown.append(trame.close)
    return app


_BARE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1><p>{{ filler }}</p>
<table><thead><tr><th>Structure</th><th>Type</th><th>Communes</th><th>Contact</th></tr></thead><tbody>
{% for r in rows %}<tr><th><a href="/s/{{ r.id }}">{{ r.name }}</a></th><td>{{ r.kind }}</td><td>{{ r.communes | join(", ") }}</td>
<td><a href="mailto:{{ r.email }}">{{ r.email }}</a><br>{{ r.phone }}</td></tr>
{% endfor %}</tbody></table></body></html>"""


def bare_app() -> Any:
    """A Litestar + Jinja page of ``BENCH_BARE_BYTES`` bytes: 50 autoescaped rows, no database."""
    env = Environment(loader=DictLoader({"bare.html": _BARE}), autoescape=select_autoescape(default=True))
    rows = [
        {
            "id": f"{i:08d}-0000-4000-8000-000000000000",
            "name": f"Structure d'accompagnement n° {i}",
            "kind": "Association",
            "communes": ["Agen", "Boé"],
            "email": f"contact{i}@exemple.fr",
            "phone": "05 53 00 00 00",
        }
        for i in range(50)
    ]
    target = int(os.environ.get("BENCH_BARE_BYTES", "30000"))
    base = len(env.get_template("bare.html").render(title="Annuaire", filler="", rows=rows).encode())
    context = {"title": "Annuaire", "filler": "x" * max(0, target - base), "rows": rows}

    @get("/", sync_to_thread=False)
    def page() -> Template:
        return Template("bare.html", context=context)

    return Litestar([page], template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)), debug=False)


# -- servers and HTTP --------------------------------------------------------------------------
@contextmanager
def server(factory: str, port: int, env: dict[str, str], tree: Path = ROOT) -> Iterator[None]:
    """uvicorn, one worker; the app's code is imported from ``tree`` (another checkout: "before")."""
    cmd = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    env = {**os.environ, **env, "PYTHONPATH": f"{tree}{os.pathsep}{ROOT / 'bench'}"}
    proc = subprocess.Popen(cmd, cwd=tree, env=env)  # noqa: S603 - our own interpreter
    try:
        deadline = time.monotonic() + 300  # a store whose projections changed is rebuilt at start-up
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/connexion" if "trame" in factory else "/")
                conn.getresponse().read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{factory} did not start on port {port}") from None
                time.sleep(0.3)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fetch(port: int, path: str, cookie: str = "", method: str = "GET", body: str | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode()
    cookies = {}
    for name, value in r.getheaders():
        if name.lower() == "set-cookie":
            k, _, v = value.split(";")[0].partition("=")
            cookies[k.strip()] = v.strip()
    return r.status, cookies, text


def login(port: int) -> str:
    status, cookies, text = fetch(port, "/connexion")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', text)
    assert status == 200 and token, "no login form"
    csrf = "; ".join(f"{k}={v}" for k, v in cookies.items())
    form = urlencode({"email": EMAIL, "password": PASSWORD, "_csrf_token": token.group(1)})
    status, cookies, _ = fetch(port, "/connexion", csrf, "POST", form)
    session = {k: v for k, v in cookies.items() if "session" in k}
    assert status == 303 and session, f"login refused ({status})"
    # What a browser sends back: the session and the CSRF cookie (without it, every page
    # would mint a new CSRF token and set it).
    return "; ".join(f"{k}={v}" for k, v in {**dict(c.split("=", 1) for c in csrf.split("; ") if c), **session}.items())


def next_link(text: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next"', text)
    return html.unescape(found.group(1)) if found else None


def deep_path(port: int, cookie: str, start: str, hops: int) -> tuple[str, int]:
    """Follow "next" links from ``start``; (path reached, hops made)."""
    path, made = start, 0
    for _ in range(hops):
        status, _, text = fetch(port, path, cookie)
        assert status == 200, f"GET {path}: {status}"
        link = next_link(text)
        if link is None:
            break
        path = link if link.startswith("/") else urlparse(start).path + link
        made += 1
    return path, made


def wrk(port: int, path: str, cookie: str, args: argparse.Namespace) -> float:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in out:
        raise SystemExit(f"wrk got errors on {path}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


# -- what one request does ---------------------------------------------------------------------
def per_request(url: str, paths: dict[str, str], tree: Path) -> dict[str, tuple[int, int]]:
    """(read transactions, statements) of one GET of each path, counted in a child process
    that imports the app from ``tree``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--count", url, json.dumps(paths)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return {k: (v[0], v[1]) for k, v in json.loads(out.splitlines()[-1]).items()}


def count_in_process(url: str, paths: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(read transactions, statements) of one GET of each path, after a warm-up."""
    import logging

    from litestar.testing import TestClient

    from core.application import Trame
    from core.database import Cursor, Database
    from core.settings import Settings
    from core.web.app import create_app

    logging.getLogger("httpx").setLevel(logging.WARNING)
    counts = {"tx": 0, "sql": 0}
    trame = Trame(Settings.from_env(database_url=url))
    db: Database = trame.db
    read, execute, rows = type(db).read, Cursor.execute, Cursor.rows

    @contextmanager
    def counted_read(self: Database) -> Iterator[Cursor]:
        counts["tx"] += 1
        with read(self) as cur:
            yield cur

    def counted_execute(self: Cursor, sql: str, params: Sequence[Any] = ()) -> Cursor:
        counts["sql"] += 1
        return execute(self, sql, params)

    def counted_rows(self: Cursor, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        counts["sql"] += 1
        return rows(self, sql, params)

    out = {}
    try:
        with TestClient(create_app(trame)) as client:
            page = client.get("/connexion")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
            client.post("/connexion", data={"email": EMAIL, "password": PASSWORD, "_csrf_token": token.group(1)})  # type: ignore[union-attr]
            type(db).read = counted_read  # type: ignore[method-assign]
            Cursor.execute = counted_execute  # type: ignore[method-assign]
            Cursor.rows = counted_rows  # type: ignore[method-assign]
            for label, path in paths.items():
                assert client.get(path).status_code == 200
                counts.update(tx=0, sql=0)
                assert client.get(path).status_code == 200
                out[label] = (counts["tx"], counts["sql"])
    finally:
        type(db).read = read  # type: ignore[method-assign]
        Cursor.execute, Cursor.rows = execute, rows  # type: ignore[method-assign]
        trame.close()
    return out


# -- the run -----------------------------------------------------------------------------------
def store_url(spec: str) -> tuple[str, str]:
    """``label=PATH_OR_URL`` or just ``PATH_OR_URL``: (database URL, label)."""
    label, sep, value = spec.partition("=")
    if not sep or not re.fullmatch(r"[\w.-]+", label):
        label, value = "", spec
    url = value if "://" in value else f"sqlite:///{Path(value).resolve()}"
    return url, label or Path(urlparse(value).path).stem


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--count"]:  # the child of per_request()
        print(json.dumps(count_in_process(argv[1], json.loads(argv[2]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", action="append", required=True, help="[label=]SQLite file or postgresql:// URL")
    p.add_argument("--runs", type=int, default=3, help="wrk runs per measure (median reported)")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--deep", type=int, default=40, help="'next' links followed to reach the deep page")
    p.add_argument("--past", default="2015-06-01", help="as_of date of the past-date measure")
    p.add_argument("--search", default="mission", help="q of the search measure ('' to skip)")
    p.add_argument("--port", type=int, default=18700)
    p.add_argument("--only", default="", help="comma-separated measures to run: first,deep,past,search")
    p.add_argument("--tree", type=Path, default=ROOT, help="import the app from this copy of the repository (the code before a change)")
    args = p.parse_args(argv)
    base = f"/t/{TERRITORY}/annuaire/"
    lines = [
        "| store | page | Trame req/s | bare req/s | ratio | runs (Trame / bare) | read tx / statements |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for spec in args.store:
        url, label = store_url(spec)
        env = {"TRAME_DATABASE_URL": url, "TRAME_SECRET_KEY": "directory-bench"}
        with server("directory_bench:trame_app", args.port, env, args.tree):
            cookie = login(args.port)
            status, _, first = fetch(args.port, base, cookie)
            assert status == 200, f"GET {base}: {status}"
            deep, hops = deep_path(args.port, cookie, base, args.deep)
            past, _ = deep_path(args.port, cookie, base + "?" + urlencode({"as_of": args.past}), min(hops, 5))
            paths = {"first": base, f"deep ({hops + 1})": deep, f"past {args.past}": past}
            if args.search:
                paths[f"q={args.search}"] = base + "?" + urlencode({"q": args.search})
            if args.only:
                keep = args.only.split(",")
                paths = {k: v for k, v in paths.items() if k.split(" ")[0].split("=")[0] in keep or ("search" in keep and k[:2] == "q=")}
            size = len(first.encode())
            counts = per_request(url, paths, args.tree)
            with server("directory_bench:bare_app", args.port + 1, {"BENCH_BARE_BYTES": str(size)}):
                for name, path in paths.items():
                    mine: list[float] = []
                    bare: list[float] = []
                    for _ in range(args.runs):  # alternated, so that a busy machine slows both alike
                        mine.append(wrk(args.port, path, cookie, args))
                        bare.append(wrk(args.port + 1, "/", "", args))
                    m, b = statistics.median(mine), statistics.median(bare)
                    tx, sql = counts[name]
                    runs = f"{' '.join(f'{x:.0f}' for x in mine)} / {' '.join(f'{x:.0f}' for x in bare)}"
                    lines.append(f"| {label} | {name} | {m:,.0f} | {b:,.0f} | {m / b:.2f} | {runs} | {tx} / {sql} |")
                    print(lines[-1], file=sys.stderr, flush=True)
            print(f"{label}: page of {size:,} bytes; deep page {deep}", file=sys.stderr)
    load = os.getloadavg()
    lines.append("")
    lines.append(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, median of {args.runs}; "
        f"load average after: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs."
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
