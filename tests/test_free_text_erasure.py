"""Erasing a person reaches the free text that names them: answers' comments and guests' names."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.application import Trame
from core.database import Row, SQLiteDatabase
from core.store import SYSTEM
from plugins.annuaire.schemas import PersonIn
from plugins.annuaire.service import directory
from plugins.rencontres.service import meetings
from plugins.rencontres.tests import helpers

NAME = "Karima Belkacem"  # fictional


@pytest.fixture
def agen(trame: Trame) -> dict[str, str]:
    helpers.territory(trame)
    return helpers.structures(trame)


def _meeting_with_comments(trame: Trame, agen: dict[str, str]) -> tuple[str, str]:
    """A meeting where the centre social's answer names Karima, the Mission locale's does not,
    and Karima is entered as a guest beside another guest; returns (meeting id, Karima's id)."""
    person_id, _ = directory(trame).create_person("agen", PersonIn(name=NAME, email="k.belkacem@agen.example"), SYSTEM)
    svc = meetings(trame)
    place = svc.place("agen", kind="structure", structure_id=agen["cms"])
    mid = svc.schedule("agen", author=SYSTEM, title="Groupe de travail", day="2026-03-13", start="14:30", end="16:30", place=place)
    links = {
        link.structure_id: link.url.rsplit("/", 1)[1] for link in svc.invite("agen", mid, [agen["cs"], agen["ml"]], author=SYSTEM).links
    }
    svc.answer_with_token("agen", links[agen["cs"]], structure_id=agen["cs"], answer="someone_else", comment="Karima viendra à ma place")
    svc.answer_with_token("agen", links[agen["ml"]], structure_id=agen["ml"], answer="coming", comment="Nous serons deux")
    svc.record_attendance(
        "agen",
        mid,
        [
            {"structure_id": agen["cs"], "status": "present", "person_name": "KARIMA Belkacem"},
            {"structure_id": agen["ml"], "status": "present", "person_name": "Paul Ferrand"},
        ],
        author=SYSTEM,
    )
    return mid, person_id


def _texts(trame: Trame) -> str:
    """Every value of every table (read models and the log), as one lower-case text."""
    out: list[str] = []
    with trame.db.read() as cur:
        for table in trame.db.tables():
            for row in cur.execute(f'SELECT * FROM "{table}"').fetchall():
                values = row.values() if isinstance(row, dict) else tuple(row)  # PostgreSQL's rows are dicts
                out.extend(bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else str(v) for v in values)
    return "\n".join(out).casefold()


def test_erasing_a_person_blanks_the_comments_and_guest_names_that_name_them(trame: Trame, agen: dict[str, str]) -> None:
    mid, person_id = _meeting_with_comments(trame, agen)
    assert "karima" in _texts(trame)  # the comment and the guest are readable before

    directory(trame).erase_person("agen", person_id, SYSTEM, reason="demande de la personne")

    svc = meetings(trame)
    comments = {i["structure_id"]: i["comment"] for i in svc.invitations("agen", mid)}
    assert comments == {agen["cs"]: None, agen["ml"]: "Nous serons deux"}
    guests = {a["structure_id"]: a["person_name"] for a in svc.attendance("agen", mid) if a["person_key"]}
    assert guests == {agen["cs"]: None, agen["ml"]: "Paul Ferrand"}
    assert "karima" not in _texts(trame) and "belkacem" not in _texts(trame)
    with trame.db.read() as cur:
        line: Row = cur.execute("SELECT author, reason FROM journal WHERE event = 'core.TextsErased'").fetchone()
    assert (line["author"], line["reason"]) == (SYSTEM, "demande de la personne")

    # A rebuild from the log shows the same: the comment's key is gone with the person.
    trame.runner.rebuild(["rencontres"])
    assert {i["structure_id"]: i["comment"] for i in svc.invitations("agen", mid)} == comments
    assert "karima" not in _texts(trame)


@pytest.mark.parametrize("backend", ["sqlite"])  # the raw file is SQLite's; PostgreSQL's tables are read above
def test_after_erasure_the_sqlite_file_holds_no_trace_of_the_name(trame: Trame, agen: dict[str, str], tmp_path: Path) -> None:
    _mid, person_id = _meeting_with_comments(trame, agen)
    directory(trame).erase_person("agen", person_id, SYSTEM)
    assert isinstance(trame.db, SQLiteDatabase)
    trame.db.scrub_free_space()  # VACUUM, then the WAL checkpointed into the file and truncated
    raw = (tmp_path / "trame.db").read_bytes().lower()
    assert b"nous serons deux" in raw  # what names nobody is still there, in the read model
    for part in (b"karima", b"belkacem"):
        assert part not in raw
    wal = tmp_path / "trame.db-wal"
    assert not wal.exists() or part not in wal.read_bytes().lower()


def test_a_professional_typed_into_an_immersion_programme_is_erased_with_the_directory_person(trame: Trame) -> None:
    from plugins.immersions.service import immersions
    from plugins.immersions.tests import helpers as immersion_helpers

    ids = immersion_helpers.territory(trame)
    programme = immersion_helpers.programme(trame, ids)
    svc = immersions(trame)
    karima = svc.join("valfleuri", programme.id, author=SYSTEM, structure_id=ids["ccas"], field="social", full_name="Karima Belkacem")
    person_id, _ = directory(trame).create_person("valfleuri", PersonIn(name=NAME), SYSTEM)

    directory(trame).erase_person("valfleuri", person_id, SYSTEM)

    names = {p["participant_id"]: p["name"] for p in svc.participants("valfleuri", programme.id)}
    assert "Karima" not in str(names[karima]) and names[programme.people["ines"]] == "Inès Fabre"  # another name stays
    assert "karima" not in _texts(trame)


def test_names_are_matched_as_whole_words_without_case_or_accents() -> None:
    from core.erasure import names_in

    assert names_in("KARIMA viendra à ma place", ["Karima Belkacem"])
    assert names_in("merci à Mme Bélkacem", ["Karima Belkacem"])
    assert not names_in("Karimaville", ["Karima Belkacem"])  # a word, not a part of one
    assert not names_in("Karima Dupont", ["Karima Belkacem"], whole=True)  # a name field: the whole name
    assert names_in("Belkacem Karima", ["Karima Belkacem"], whole=True)
    assert not names_in("de la part du CCAS", ["Anne de La Ville"])  # particles name nobody


def test_a_charter_signatory_typed_by_name_is_erased_with_the_directory_person(trame: Trame) -> None:
    from plugins.charte.service import charters
    from plugins.charte.tests import helpers as charter_helpers

    charter_helpers.territory(trame)
    s = charter_helpers.structures(trame)
    cid = charter_helpers.charter(trame, s)
    svc = charters(trame)
    svc.sign("joigny", cid, author=SYSTEM, structure_id=s["ml"], signatory_name=NAME, signatory_role="directrice", signed_on="2010-03-12")
    svc.sign(
        "joigny", cid, author=SYSTEM, structure_id=s["clic"], signatory_name="Paul Ferrand", signatory_role="chef", signed_on="2010-03-12"
    )
    person_id, _ = directory(trame).create_person("joigny", PersonIn(name=NAME), SYSTEM)

    directory(trame).erase_person("joigny", person_id, SYSTEM)

    names = {x["structure_id"]: x["signatory_name"] for x in svc.signatories("joigny", cid, "2011-01-01")}
    assert names == {s["ml"]: None, s["clic"]: "Paul Ferrand"}  # both signatures stay
    assert "karima" not in _texts(trame)
