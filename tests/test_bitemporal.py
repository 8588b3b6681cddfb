"""Bitemporal tables: as-of reads, corrections that keep what was known before, list appends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.application import Trame
from core.bitemporal import BitemporalTable, fold

T = BitemporalTable("essai_bt", columns=("name", ("upper", lambda s: (s.get("name") or "").upper())))


@pytest.fixture
def table(trame: Trame) -> Iterator[BitemporalTable]:
    with trame.db.write() as cur:
        for stmt in T.schema():
            cur.execute(stmt)
    yield T


def _record(trame: Trame, effective: str, recorded: str, seq: int, patch: dict[str, object], entity: str = "e1") -> None:
    with trame.db.write() as cur:
        T.record(cur, territory="t", entity_id=entity, effective=effective, recorded_at=recorded, seq=seq, patch=patch)


def _get(trame: Trame, as_of: str, known_at: str | None = None, entity: str = "e1") -> dict[str, object] | None:
    with trame.db.read() as cur:
        return T.get(cur, entity, as_of=as_of, known_at=known_at)


def test_as_of_and_known_at_with_a_late_correction(trame: Trame, table: BitemporalTable) -> None:
    _record(trame, "2007", "2020-01", 1, {"exists": True, "name": "ANPE"})
    _record(trame, "2024", "2020-02", 2, {"name": "France Travail"})
    # Entered in 2021: the name changed already in 2008.
    _record(trame, "2008", "2021-01", 3, {"name": "Pôle emploi", "+former_names": "ANPE"})
    assert _get(trame, "2006") is None
    assert _get(trame, "2007-06")["name"] == "ANPE"  # type: ignore[index]
    assert _get(trame, "2010")["name"] == "Pôle emploi"  # type: ignore[index]
    assert _get(trame, "2025") == {"exists": True, "name": "France Travail", "former_names": ["ANPE"]}
    # As known before the correction, 2010 was still the ANPE; before anything, nothing.
    assert _get(trame, "2010", known_at="2020-06")["name"] == "ANPE"  # type: ignore[index]
    assert _get(trame, "2010", known_at="2019") is None


def test_leaving_makes_the_entity_absent_and_lists_follow(trame: Trame, table: BitemporalTable) -> None:
    _record(trame, "2007", "2020-01", 1, {"exists": True, "name": "Ligue"})
    _record(trame, "2007", "2020-01", 2, {"exists": True, "name": "Autre"}, entity="e2")
    _record(trame, "2013", "2020-02", 3, {"exists": False})
    _record(trame, "2015", "2020-03", 4, {"exists": True})
    with trame.db.read() as cur:
        assert sorted(e for e, _ in T.all_at(cur, "t", as_of="2014")) == ["e2"]
        assert sorted(e for e, _ in T.all_at(cur, "t", as_of="2016")) == ["e1", "e2"]
        assert sorted(e for e, _ in T.all_at(cur, "t", as_of="2014", known_at="2020-02-15")) == ["e2"]
        assert sorted(e for e, _ in T.all_at(cur, "t", as_of="2016", known_at="2020-02-15")) == ["e2"]
        assert cur.scalar("SELECT upper FROM essai_bt WHERE entity_id = 'e1' AND recorded_to > '9999' AND valid_from = '2015'") == "LIGUE"


def test_record_returns_rows_with_unique_ids(trame: Trame, table: BitemporalTable) -> None:
    with trame.db.write() as cur:
        first = T.record(cur, territory="t", entity_id="e1", effective="2007", recorded_at="2020", seq=1, patch={"exists": True})
        later = T.record(cur, territory="t", entity_id="e1", effective="2010", recorded_at="2021", seq=2, patch={"name": "x"})
    assert [(v.valid_from, v.valid_to[:4]) for v in later.written] == [("2007", "2010"), ("2010", "9999")]
    assert [(v.valid_from, v.valid_to[:4]) for v in later.superseded] == [("2007", "9999")]
    ids = [v.row_id for v in first.written + later.written]
    assert len(set(ids)) == len(ids)


def test_live_rows_are_those_that_can_be_current_from_now_on(trame: Trame, table: BitemporalTable) -> None:
    """A past interval is not live; one still open when recorded (today's, a future one) is."""
    with trame.db.write() as cur:
        T.record(cur, territory="t", entity_id="e1", effective="2007", recorded_at="2020", seq=1, patch={"exists": True})
        past = T.record(cur, territory="t", entity_id="e1", effective="2010", recorded_at="2021", seq=2, patch={"name": "x"})
        # Recorded in 2022, effective in 2030: the 2010-2030 interval is live, and so is 2030-.
        future = T.record(cur, territory="t", entity_id="e1", effective="2030", recorded_at="2022", seq=3, patch={"name": "y"})
        live_now = cur.execute(f"SELECT valid_from FROM essai_bt WHERE {T.live_sql()} ORDER BY valid_from").fetchall()
    assert [(v.valid_from, v.live) for v in past.written] == [("2007", False), ("2010", True)]
    assert [(v.valid_from, v.live) for v in future.written] == [("2010", True), ("2030", True)]
    assert [r["valid_from"] for r in live_now] == ["2010", "2030"]


def test_fold_appends_with_a_plus_key() -> None:
    assert fold({"a": 1, "l": ["x"]}, {"a": 2, "+l": "y", "+m": "z"}) == {"a": 2, "l": ["x", "y"], "m": ["z"]}


def test_rewrite_blanks_a_field_everywhere(trame: Trame, table: BitemporalTable) -> None:
    _record(trame, "2007", "2020-01", 1, {"exists": True, "name": "Secret"})
    _record(trame, "2010", "2020-02", 2, {"name": "Secret 2"})
    with trame.db.write() as cur:
        T.rewrite(cur, "e1", {"name": None})
    with trame.db.read() as cur:
        rows = cur.execute("SELECT state, name FROM essai_bt").fetchall()
        facts = cur.execute("SELECT patch FROM essai_bt_facts").fetchall()
    assert all("Secret" not in r["state"] and r["name"] is None for r in rows)
    assert all("Secret" not in f["patch"] for f in facts)


def test_reads_match_a_naive_fold_of_the_facts_known_then(trame: Trame, table: BitemporalTable) -> None:
    """Back-dated facts in random order: every (as_of, known_at) read equals folding, in
    (effective, seq) order, the facts recorded by known_at and effective by as_of."""
    import random

    rng = random.Random(7)
    facts: list[tuple[str, str, int, dict[str, object]]] = []
    for seq in range(1, 61):
        effective = f"20{rng.randrange(0, 30):02d}"
        recorded = f"2030-{seq:03d}"
        patch: dict[str, object] = {"exists": rng.random() > 0.15, "name": f"n{seq}"}
        if rng.random() < 0.2:
            patch = {"+former_names": f"f{seq}"}
        facts.append((effective, recorded, seq, patch))
        _record(trame, effective, recorded, seq, patch)
    for as_of in (f"20{y:02d}-06" for y in range(0, 31, 3)):
        for known_at in ("2030-005", "2030-020", "2030-041", None):
            state: dict[str, object] = {"exists": False}
            known = [f for f in facts if known_at is None or f[1] <= known_at]
            for _, _, _, patch in sorted((f for f in known if f[0] <= as_of), key=lambda f: (f[0], f[2])):
                state = fold(state, patch)
            expected = state if state.get("exists") else None
            assert _get(trame, as_of, known_at) == expected, (as_of, known_at)
