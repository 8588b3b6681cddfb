"""CSV import benchmark (not a test), issue 11 §3: 100,000 structures imported in one command.

Run from the repository root::

    python -m bench.import_bench                 # 100,000 lines on SQLite
    python -m bench.import_bench --lines 5000    # smoke run

It writes a seeded spreadsheet (every column Trame reads, names unique), then imports it into a
fresh SQLite store the way ``trame import-structures`` and the API do
(:func:`plugins.annuaire.exchange.import_csv`: every line checked, then one atomic append of
one stream per structure, projected in the same transaction), and prints the time of each step
(from the import's own progress callback), the total, and a check that the directory holds
every structure. Progress goes to stderr, the result to stdout.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from core import spreadsheet
from core.application import Trame
from core.database import SQLiteDatabase
from core.settings import Settings
from core.store import SYSTEM

KINDS = ["CCAS", "Mission locale", "CAF", "Association", "Centre social", "MDS", "France Travail"]
COMMUNES = ["Agen", "Boé", "Le Passage", "Bon-Encontre", "Colayrac-Saint-Cirq", "Foulayronnes", "Pont-du-Casse"]
THEMES = ["Logement", "Santé", "Emploi, insertion", "Famille", "Mobilité"]


def spreadsheet_of(lines: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = spreadsheet.writer(out, delimiter=";")
    writer.writerow(["Nom", "Sigle", "Type", "Statut", "E-mail", "Téléphone", "Adresse", "Communes", "Missions", "Thèmes"])
    for n in range(1, lines + 1):
        commune = rng.choice(COMMUNES)
        writer.writerow(
            [
                f"Structure partenaire n° {n} de {commune}",
                f"SP{n}",
                rng.choice(KINDS),
                rng.choice(["public", "privé"]),
                f"accueil{n}@partenaire.example",
                f"05 53 {n % 100:02d} {n // 100 % 100:02d} {rng.randrange(100):02d}",
                f"{rng.randrange(1, 200)} rue des Écoles, 47000 {commune}",
                ", ".join(rng.sample(COMMUNES, 2)),
                "Accueil, information et orientation des habitants du quartier.",
                " | ".join(rng.sample(THEMES, 2)),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--tmpdir", default=None)
    args = parser.parse_args()
    from plugins.annuaire.exchange import import_csv
    from plugins.annuaire.service import directory

    raw = spreadsheet_of(args.lines, args.seed)
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as folder:
        settings = Settings(database_url="unused://", secret_key="bench")  # noqa: S106 - a throwaway store
        trame = Trame(settings, db=SQLiteDatabase(str(Path(folder) / "trame.db")))
        trame.territories.create("agen", "Agen", author=SYSTEM)
        trame.territories.enable("agen", "annuaire", author=SYSTEM)
        steps: dict[str, float] = {}
        started = time.monotonic()
        mark = [started]

        def progress(step: str, done: int, total: int) -> None:
            now = time.monotonic()
            steps[step] = steps.get(step, 0.0) + now - mark[0]
            mark[0] = now
            print(f"\r{step} {done}/{total}", end="", file=sys.stderr, flush=True)

        report = import_csv(trame, "agen", raw, author=SYSTEM, dry_run=False, filename="bench.csv", progress=progress)
        total = time.monotonic() - started
        print(file=sys.stderr)
        _, count = directory(trame).list_structures("agen", limit=1)
        with trame.db.read() as cur:
            commands = cur.scalar("SELECT COUNT(DISTINCT originator_id) FROM stored_events")
        trame.close()
    load = os.getloadavg()[0]
    print(f"# CSV import, {args.lines} lines, SQLite (load {load:.2f} on {os.cpu_count()} CPUs)")
    print(f"- file: {len(raw) / 1024 / 1024:.1f} MB; imported: {report.imported}, created {len(report.created)}")
    for step, seconds in steps.items():
        print(f"- {step}: {seconds:.1f} s")
    print(f"- total: {total:.1f} s ({args.lines / total:.0f} lines/s); the directory lists {count}; streams in the log: {commands}")
    return 0 if report.imported and count >= args.lines else 1


if __name__ == "__main__":
    sys.exit(main())
