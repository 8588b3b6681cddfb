"""The projection contract: ``tables`` names every table a projection owns, on either database."""

from __future__ import annotations

import re

from core.application import Trame

_CREATED = re.compile(r"CREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


def test_every_table_a_projection_creates_is_declared_in_its_tables(trame: Trame) -> None:
    undeclared = {
        p.name: sorted(created - set(p.tables))
        for p in trame.runner.projections.values()
        for created in [{m.group(1) for stmt in p.schema(trame.db.dialect) for m in [_CREATED.match(stmt.strip())] if m}]
        if created - set(p.tables)
    }
    assert undeclared == {}


def test_a_rebuild_drops_and_recreates_exactly_the_declared_tables(trame: Trame) -> None:
    trame.territories.create("agen", "Agen", author="system")
    trame.territories.enable("agen", "annuaire", author="system")
    before = {name: trame.runner.tables_of(name) for name in trame.runner.projections}
    trame.runner.rebuild()  # tables of the other database are named too: dropping them is harmless
    assert {name: trame.runner.tables_of(name) for name in trame.runner.projections} == before
    assert all(before.values()), [name for name, tables in before.items() if not tables]
