"""Batched projection: however the log is cut into batches (one event each, a few, a whole
rebuild), the tables end the same, and a bitemporal :class:`Batch` writes what recording
the facts one by one writes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from core.application import Trame
from core.bitemporal import BitemporalTable
from core.store import SYSTEM
from plugins.annuaire.schemas import ContactEnd, ContactIn, ContactPatch, PersonIn, PersonPatch, StructureIn, StructurePatch
from plugins.annuaire.service import Directory
from plugins.annuaire.tests.conftest import Employment


def _tables(name: str) -> BitemporalTable:
    return BitemporalTable(name, columns=("name", ("upper", lambda s: (s.get("name") or "").upper())))


def _facts(seed: int) -> list[tuple[str, str, str, int, dict[str, Any]]]:
    """Back-dated, same-instant, leaving and appending facts over three entities."""
    rng = random.Random(seed)
    out = []
    for seq in range(1, 121):
        entity = rng.choice(("e1", "e2", "e3"))
        effective = f"20{rng.randrange(0, 30):02d}" if rng.random() < 0.4 else f"2030-{seq:03d}"
        recorded = f"2040-{seq // 2:03d}"  # pairs share a recording instant: empty knowledge intervals
        patch: dict[str, Any] = {"exists": rng.random() > 0.15, "name": f"n{seq}"}
        if rng.random() < 0.2:
            patch = {"+former_names": f"f{seq}"}
        out.append((entity, effective, recorded, seq, patch))
    return out


def _dump(trame: Trame, table: BitemporalTable) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with trame.db.read() as cur:
        rows = sorted(tuple(r) for r in cur.rows(f"SELECT * FROM {table.name}"))
        facts = sorted(tuple(r) for r in cur.rows(f"SELECT * FROM {table.facts}"))
    return rows, facts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_writes_what_one_by_one_writes(trame: Trame, seed: int) -> None:
    facts = _facts(seed)
    single, whole, cut = _tables(f"essai_one_{seed}"), _tables(f"essai_all_{seed}"), _tables(f"essai_cut_{seed}")
    dialect = trame.db.dialect
    with trame.db.write() as cur:
        for t in (single, whole, cut):
            for stmt in (*t.schema(dialect), *t.indexes()):
                cur.execute(stmt)
    for entity, effective, recorded, seq, patch in facts:
        with trame.db.write() as cur:
            single.record(cur, territory="t", entity_id=entity, effective=effective, recorded_at=recorded, seq=seq, patch=patch)
    with trame.db.write() as cur:
        batch = whole.batch(cur, dialect)
        batch.prefetch((f[0], f[1]) for f in facts)
        for entity, effective, recorded, seq, patch in facts:
            batch.record(territory="t", entity_id=entity, effective=effective, recorded_at=recorded, seq=seq, patch=patch)
        batch.flush()
    rng = random.Random(seed)
    i = 0
    while i < len(facts):
        size = rng.randrange(1, 12)
        with trame.db.write() as cur:
            batch = cut.batch(cur, dialect)
            if rng.random() < 0.5:
                batch.prefetch((f[0], f[1]) for f in facts[i : i + size])
            for entity, effective, recorded, seq, patch in facts[i : i + size]:
                batch.record(territory="t", entity_id=entity, effective=effective, recorded_at=recorded, seq=seq, patch=patch)
            batch.flush()
        i += size
    expected = _dump(trame, single)
    assert _dump(trame, whole) == expected
    assert _dump(trame, cut) == expected


def test_a_batch_reads_its_own_facts(trame: Trame) -> None:
    t = _tables("essai_own")
    with trame.db.write() as cur:
        for stmt in t.schema(trame.db.dialect):
            cur.execute(stmt)
        batch = t.batch(cur, trame.db.dialect)
        batch.record(territory="t", entity_id="e", effective="2007", recorded_at="2020", seq=1, patch={"exists": True, "name": "a"})
        assert batch.state_at("e", "2008")["name"] == "a"
        batch.record(territory="t", entity_id="e", effective="2005", recorded_at="2021", seq=2, patch={"exists": True, "name": "b"})
        assert batch.state_at("e", "2006")["name"] == "b" and batch.state_at("e", "2008")["name"] == "a"
        assert batch.state_at("e", "2004") == {"exists": False}
        batch.flush()
        assert t.state_at(cur, "e", "2006")["name"] == "b"


def _history(d: Directory, agen: str, employment: Employment) -> None:
    """Structures and people changed in every way, back-dated too, several times each."""
    ids = [employment.agency]
    for n in range(4):
        sid, _ = d.create_structure(
            agen, StructureIn(name=f"Association {n}", kind="association", communes=["Agen"], effective="2009-01-01"), SYSTEM
        )
        ids.append(sid)
    for n, sid in enumerate(ids[1:]):
        d.update_structure(agen, sid, StructurePatch(missions=f"Accueil {n}", effective="2015-01-01"), d.version(agen, sid), SYSTEM)
        d.update_structure(agen, sid, StructurePatch(phone="05 00 00 00 0{n}"), d.version(agen, sid), SYSTEM)
        d.update_structure(
            agen, sid, StructurePatch(name=f"Association {n} renommée", effective="2012-06-01"), d.version(agen, sid), SYSTEM
        )
        d.confirm_structure(agen, sid, SYSTEM)
    d.leave_structure(agen, ids[1], "2016-01-01", SYSTEM)
    d.rejoin_structure(agen, ids[1], "2018-01-01", SYSTEM)
    d.merge_structure(agen, ids[2], ids[3], "2019-01-01", SYSTEM)
    people = []
    for n in range(3):
        pid, _ = d.create_person(agen, PersonIn(name=f"Personne {n}", email=f"p{n}@exemple.fr"), SYSTEM)
        people.append(pid)
        d.update_person(agen, pid, PersonPatch(phone=f"06 00 00 00 0{n}"), SYSTEM)
        cid, _ = d.start_contact(agen, ids[n + 1], ContactIn(person_id=pid, role="referent", since="2010-01-01"), SYSTEM)
        d.end_contact(agen, ids[n + 1], cid, ContactEnd(until="2014-01-01"), SYSTEM)
        d.correct_contact(agen, ids[n + 1], cid, ContactPatch(until="2013-06-01"), SYSTEM)
    d.erase_person(agen, people[1], SYSTEM)
    d.update_person(agen, people[2], PersonPatch(name="Personne deux"), SYSTEM)


@pytest.mark.parametrize("size", [1, 3, 7, 2000])
def test_rebuild_in_batches_of_any_size_equals_incremental(
    trame: Trame, d: Directory, agen: str, employment: Employment, size: int
) -> None:
    _history(d, agen, employment)
    names = ["annuaire.structures", "annuaire.people"]
    incremental = trame.runner.snapshot(names)
    today = d.list_structures(agen, "association")
    past = d.list_structures(agen, "pole emploi", as_of="2010-01-01T00:00:00.000000Z")
    trame.runner.rebuild_batch = size
    trame.runner.rebuild(names)
    assert trame.runner.snapshot(names) == incremental
    assert d.list_structures(agen, "association") == today  # the live index, filled at the end
    assert d.list_structures(agen, "pole emploi", as_of="2010-01-01T00:00:00.000000Z") == past
    assert past[0][0].id == employment.agency
    # Caught up in small batches afterwards, still the same as one by one.
    trame.runner.batch = size
    with trame.db.write() as cur:
        cur.execute("UPDATE projection_positions SET position = 0 WHERE name IN ('annuaire.structures', 'annuaire.people')")
        for p in names:
            for table in trame.runner.tables_of(p):
                if "fts" in table:
                    cur.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
                else:
                    cur.execute(f"DELETE FROM {table}")
    trame.runner.catch_up(names)
    assert trame.runner.snapshot(names) == incremental
    assert d.list_structures(agen, "association") == today
