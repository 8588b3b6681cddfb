"""The directory's service: time, names, history, search, erasure, rebuilds."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent

from core import clock
from core.application import Trame
from core.database import SQLiteDatabase
from core.events import StoredEnvelope
from core.refusals import Refused, Why
from core.store import SYSTEM, Conflict
from core.testing import refused
from plugins.annuaire.events import ContactStarted
from plugins.annuaire.schemas import ContactIn, ContactPatch, PersonIn, StructureIn, StructurePatch
from plugins.annuaire.service import ERASED_NAME, Directory
from plugins.annuaire.tests.conftest import Employment, open_territory


def day(text: str) -> str:
    """ "As of" a date: the whole day."""
    return clock.parse(text, end_of_day=True)


def test_pole_emploi_contact_in_2010_found_by_old_name(d: Directory, agen: str, employment: Employment) -> None:
    items, total = d.list_structures(agen, "Pôle emploi", as_of=day("2010-06-01"))
    assert total == 1 and items[0].id == employment.agency
    assert items[0].name == "Pôle emploi – agence d'Agen"
    [contact] = d.contacts(agen, items[0].id, as_of=day("2010-06-01"))
    assert contact.person.name == "Laëtitia Faure" and contact.role == "referent"
    # Today it is France Travail, still found by its former names.
    [now], _ = d.list_structures(agen, "pole emploi")
    assert now.name == "France Travail – agence d'Agen"
    assert now.former_names == ["ANPE – agence locale d'Agen", "Pôle emploi – agence d'Agen"]
    assert d.contacts(agen, now.id) == []  # she left in 2012
    # Before the merger it was the ANPE, which a search as of then finds by that name only.
    assert d.list_structures(agen, "Pôle emploi", as_of=day("2008-01-01"))[1] == 0
    assert d.list_structures(agen, "ANPE", as_of=day("2008-01-01"))[0][0].id == employment.agency


def test_correction_changes_as_of_but_not_known_at_before_correction(d: Directory, agen: str, employment: Employment) -> None:
    before_correction = clock.now()
    time.sleep(0.002)
    d.correct_contact(
        agen, employment.agency, employment.contact, ContactPatch(until="2010-03-15", reason="Elle est en fait partie en mars 2010"), SYSTEM
    )
    assert d.contacts(agen, employment.agency, as_of=day("2010-06-01")) == []
    [then] = d.contacts(agen, employment.agency, as_of=day("2010-06-01"), known_at=before_correction)
    assert then.person.name == "Laëtitia Faure" and then.until == "2012-07-01"
    [corrected] = d.contacts(agen, employment.agency, as_of=day("2010-01-01"))
    assert corrected.until == "2010-03-15"
    # The same holds for a sheet: a name corrected today, effective in 2015.
    version = d.version(agen, employment.agency)
    d.update_structure(agen, employment.agency, StructurePatch(phone="05 36 49 10 20", effective="2015-01-01"), version, SYSTEM)
    assert d.get_structure(agen, employment.agency, as_of=day("2016-01-01")).phone == "05 36 49 10 20"  # type: ignore[union-attr]
    assert d.get_structure(agen, employment.agency, as_of=day("2016-01-01"), known_at=before_correction).phone is None  # type: ignore[union-attr]


def test_history_has_field_level_before_after_with_author(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    coordinator = trame.accounts.create("coordination@agen.example", "mot-de-passe-solide")
    d.update_structure(
        agen,
        employment.agency,
        StructurePatch(email="agence.agen@francetravail.example", reason="Nouvelle adresse"),
        d.version(agen, employment.agency),
        coordinator,
    )
    history = d.history(agen, structure_id=employment.agency)
    labels = [h.label for h in history]
    assert labels.count("Changement de nom") == 2 and "Absorbe une structure" in labels
    rename = next(h for h in history if h.effective.startswith("2024-01-01"))
    assert rename.label == "Changement de nom" and rename.reason == "Loi pour le plein emploi"
    assert [(c.field, c.before, c.after) for c in rename.changes] == [
        ("name", "Pôle emploi – agence d'Agen", "France Travail – agence d'Agen")
    ]
    last = history[-1]
    assert (last.author, last.author_email, last.reason) == (coordinator, "coordination@agen.example", "Nouvelle adresse")
    assert [(c.field, c.before, c.after) for c in last.changes] == [("email", None, "agence.agen@francetravail.example")]
    ended = next(h for h in history if h.label == "Fin de contact")
    assert ended.changes[0].field == "until" and ended.person_id == employment.laetitia
    assert [h.label for h in d.audit(agen, actor="coordination@agen.example")] == ["Modification de la fiche"]
    assert d.audit(agen, structure_id=employment.assedic)[0].label == "Fusion dans une autre structure"


def test_merge_and_leave_as_of(d: Directory, agen: str, employment: Employment) -> None:
    assert d.get_structure(agen, employment.assedic, as_of=day("2008-06-01")) is not None
    assert d.get_structure(agen, employment.assedic, as_of=day("2009-01-01")) is None
    assert d.get_structure(agen, employment.agency, as_of=day("2009-01-01")).absorbed == [employment.assedic]  # type: ignore[union-attr]
    assert d.list_structures(agen, as_of=day("2008-06-01"))[1] == 2
    assert d.list_structures(agen, as_of=day("2009-01-01"))[1] == 1
    d.leave_structure(agen, employment.agency, "2030-01-01", SYSTEM, "Quitte le café")
    assert d.get_structure(agen, employment.agency, as_of=day("2029-12-31")) is not None
    assert d.get_structure(agen, employment.agency, as_of=day("2030-01-02")) is None
    with pytest.raises(Refused):
        d.leave_structure(agen, employment.agency, "2031-01-01", SYSTEM)
    d.rejoin_structure(agen, employment.agency, "2032-01-01", SYSTEM)
    assert d.get_structure(agen, employment.agency, as_of=day("2032-06-01")) is not None
    assert d.list_structures(agen, as_of=day("2031-01-01"))[1] == 0


def test_stale_version_is_a_conflict_and_changes_nothing(d: Directory, agen: str, employment: Employment) -> None:
    version = d.version(agen, employment.agency)
    with pytest.raises(Conflict):
        d.update_structure(agen, employment.agency, StructurePatch(phone="01"), version - 1, SYSTEM)
    assert d.version(agen, employment.agency) == version


def test_search_accents_and_acronyms(d: Directory, agen: str) -> None:
    epernon, _ = d.create_structure(agen, StructureIn(name="CCAS d'Épernon", kind="ccas", communes=["Épernon"]), SYSTEM)
    mds, _ = d.create_structure(agen, StructureIn(name="Maison départementale des solidarités", acronym="MDS", kind="mds"), SYSTEM)
    coeur, _ = d.create_structure(agen, StructureIn(name="Cultures du cœur", missions="Invitations culturelles"), SYSTEM)
    d.create_structure(agen, StructureIn(name="Mission locale", missions="Accompagne les jeunes, en lien avec la MDS"), SYSTEM)
    assert [s.id for s in d.list_structures(agen, "epernon")[0]] == [epernon]
    assert [s.id for s in d.list_structures(agen, "EPERN")[0]] == [epernon]
    found, total = d.list_structures(agen, "mds")
    assert total == 2 and found[0].id == mds  # the acronym ranks before a mention in a mission
    assert [s.id for s in d.list_structures(agen, "coeur")[0]] == [coeur]
    assert [s.id for s in d.list_structures(agen, "cœur")[0]] == [coeur]
    assert [s.id for s in d.list_structures(agen, "épernon", kind="ccas", commune="Épernon")[0]] == [epernon]
    assert d.list_structures(agen, "epernon", kind="mds")[1] == 0


def test_todays_directory_from_live_rows_equals_the_full_history_read(d: Directory, agen: str, employment: Employment) -> None:
    """Reads as of today go through the live rows and their search index; a read "as known
    at" a later instant goes through every interval. Both must list the same sheets, through
    back-dated and future-dated changes, renames, a merge, a departure and a return."""
    a = d.create_structure(agen, StructureIn(name="Secours populaire d'Agen", communes=["Agen"], effective="2005-01-01"), SYSTEM)[0]
    b = d.create_structure(agen, StructureIn(name="Épicerie solidaire du Passage", effective="2006-01-01"), SYSTEM)[0]
    d.update_structure(agen, a, StructurePatch(name="Secours populaire – Agen", effective="2011-05-01"), 1, SYSTEM)
    d.update_structure(agen, a, StructurePatch(missions="Aide alimentaire, vacances", effective="2009-01-01"), 2, SYSTEM)
    d.update_structure(agen, b, StructurePatch(name="Épicerie sociale du Passage", effective="2999-01-01"), 1, SYSTEM)
    d.leave_structure(agen, b, "2030-01-01", SYSTEM)
    d.leave_structure(agen, employment.agency, "2015-01-01", SYSTEM)
    d.rejoin_structure(agen, employment.agency, "2016-01-01", SYSTEM)
    later = "9999-01-01T00:00:00.000000Z"  # as known "at" a later instant: the full-history path
    for q in (None, "secours", "agen", "aide alimentaire", "epicerie solidaire", "epicerie sociale", "pole emploi", "anpe", "assedic"):
        for as_of in (None, day("2031-01-01"), day("3000-01-01")):
            live = d.list_structures(agen, q, as_of=as_of)
            full = d.list_structures(agen, q, as_of=as_of or clock.now(), known_at=later)
            assert [(s.id, s.name) for s in live[0]] == [(s.id, s.name) for s in full[0]], (q, as_of)
            assert live[1] == full[1]
    [today], _ = d.list_structures(agen, "epicerie solidaire")
    assert today.id == b
    assert d.list_structures(agen, "epicerie sociale")[1] == 0  # its new name takes effect in 2999
    assert d.list_structures(agen, "epicerie sociale", as_of=day("2031-01-01"))[1] == 0  # it left in 2030
    assert d.list_structures(agen, "aide alimentaire")[0][0].id == a


def test_people_search_ignores_accents(d: Directory, agen: str) -> None:
    pid, _ = d.create_person(agen, PersonIn(name="Émilie Vigouroux"), SYSTEM)
    assert [p.id for p in d.search_people(agen, "emil vig")] == [pid]
    assert d.search_people(agen, "ilie") == []


def test_contact_validation_messages_are_french(d: Directory, agen: str, employment: Employment) -> None:
    with pytest.raises(Refused, match="Rôle de contact inconnu"):
        d.start_contact(agen, employment.agency, ContactIn(person_id=employment.laetitia, role="chef"), SYSTEM)
    with pytest.raises(Refused, match="since"):
        d.start_contact(agen, employment.agency, ContactIn(person_id=employment.laetitia, role="referent", since="2010-13-01"), SYSTEM)
    with pytest.raises(Refused, match="Type de structure inconnu"):
        d.create_structure(agen, StructureIn(name="X", kind="inconnu"), SYSTEM)


def test_erasure_leaves_no_plaintext(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    name, email = "Zéphyrine Quillardot", "zephyrine.quillardot@exemple.fr"
    pid, _ = d.create_person(agen, PersonIn(name=name, email=email, phone="05 36 49 99 99"), SYSTEM)
    d.update_person(
        agen,
        pid,
        msgspec.convert(
            {"email": "z.quillardot@exemple.fr"}, type=__import__("plugins.annuaire.schemas", fromlist=["PersonPatch"]).PersonPatch
        ),
        SYSTEM,
    )
    d.start_contact(agen, employment.agency, ContactIn(person_id=pid, role="referent", since="2013-01-01"), SYSTEM)
    needles = [name, email, "z.quillardot@exemple.fr", "quillardot"]
    assert any(n in t for n in needles for t in _every_text(trame)), "the test must see the plaintext before erasure"

    d.erase_person(agen, pid, SYSTEM, "Demande RGPD")

    texts = _every_text(trame)
    for needle in needles:
        assert not any(needle in t for t in texts), f"{needle!r} is still stored"
    assert d.person(agen, pid).erased and d.person(agen, pid).name is None  # type: ignore[union-attr]
    [contact] = [c for c in d.contacts(agen, employment.agency) if c.person.id == pid]
    assert contact.person.name is None and contact.person.erased
    started = [h for h in d.history(agen, structure_id=employment.agency) if h.label == "Nouveau contact" and h.person_id == pid]
    assert started[0].changes[0].after == ERASED_NAME
    assert trame.keys.lookup({pid}) == {}
    assert d.search_people(agen, "quillardot") == []


def _every_text(trame: Trame) -> list[str]:
    """Every byte the database holds: the raw SQLite files, or every text-like column of PostgreSQL."""
    db = trame.db
    if isinstance(db, SQLiteDatabase):
        out = []
        for suffix in ("", "-wal"):
            path = Path(db.path + suffix)
            if path.exists():
                out.append(path.read_bytes().decode("utf-8", errors="replace"))
        return out
    texts: list[str] = []
    with db.read() as cur:
        columns = cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'bytea', 'character varying', 'json', 'jsonb', 'tsvector', 'USER-DEFINED')"
        ).fetchall()
        for c in columns:
            cast = "" if c["data_type"] == "bytea" else "::text"
            for row in cur.execute(f'SELECT "{c["column_name"]}"{cast} AS v FROM "{c["table_name"]}"').fetchall():
                value = row["v"]
                if value is not None:
                    texts.append(bytes(value).decode("utf-8", errors="replace") if not isinstance(value, str) else value)
    return texts


def test_contact_started_v1_reads_back_upcast(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    stream = uuid.uuid4()
    old = {
        "contact_id": str(stream),
        "person_id": employment.laetitia,
        "structure_id": employment.agency,
        "function": "direction",
        "since": clock.parse("2005-01-01"),
    }
    envelope = StoredEnvelope(1, "import", clock.now(), clock.parse("2005-01-01"), agen, None, msgspec.Raw(msgspec.json.encode(old)))
    trame.store.append_stored([StoredEvent(stream, 1, ContactStarted.name, msgspec.json.encode(envelope))])
    [read] = trame.store.stream(stream)
    assert read.event == ContactStarted(
        contact_id=str(stream),
        person_id=employment.laetitia,
        structure_id=employment.agency,
        role="direction",
        since=clock.parse("2005-01-01"),
        theme=None,
    )
    trame.runner.catch_up()
    assert [c.role for c in d.contacts(agen, employment.agency, as_of=day("2006-01-01"))] == ["direction"]


def test_rebuild_equals_incremental(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    d.correct_contact(agen, employment.agency, employment.contact, ContactPatch(until="2010-03-15"), SYSTEM)
    gone, _ = d.create_person(agen, PersonIn(name="Personne Àeffacer", email="a@b.fr"), SYSTEM)
    d.erase_person(agen, gone, SYSTEM)
    names = ["annuaire.structures", "annuaire.people"]
    before = trame.runner.snapshot(names)
    trame.runner.rebuild(names)
    assert trame.runner.snapshot(names) == before
    assert d.list_structures(agen, "pole emploi", as_of=day("2010-01-01"))[0][0].id == employment.agency


def test_territory_isolation_in_the_service(trame: Trame, d: Directory, agen: str, employment: Employment) -> None:
    fumel = open_territory(trame, "fumel")
    assert d.get_structure(fumel, employment.agency) is None
    assert d.list_structures(fumel, "France Travail")[1] == 0 and d.list_structures(fumel)[1] == 0
    assert d.person(fumel, employment.laetitia) is None
    assert d.audit(fumel) == []
    with refused(Why.ABSENT):
        d.history(fumel, structure_id=employment.agency)
    with refused(Why.ABSENT):
        d.update_structure(fumel, employment.agency, StructurePatch(phone="x"), d.version(agen, employment.agency), SYSTEM)


def test_demo_loads_for_the_four_territories_and_answers_the_2010_question(trame: Trame, d: Directory) -> None:
    from plugins.annuaire import demo

    for slug in ("meaux", "agen", "fumel", "joigny"):
        open_territory(trame, slug)
        ids = demo.load(trame, slug)
        assert ids and d.list_structures(slug)[1] > 5
        assert demo.load(trame, slug) == {}  # a second call adds nothing
    expected = {"agen": "Sébastien Dalbin", "fumel": "Laëtitia Faure"}
    for slug, person in expected.items():
        [agency], _ = d.list_structures(slug, "Pôle emploi", as_of=day("2010-06-01"))
        assert agency.name.startswith("Pôle emploi")
        referents = [c.person.name for c in d.contacts(slug, agency.id, as_of=day("2010-06-01")) if c.role == "referent"]
        assert referents == [person]
        [now], _ = d.list_structures(slug, "Pôle emploi")
        assert now.name.startswith("France Travail")
    # Meaux: the relays of Cultures du cœur were entered later, effective from the start.
    found, _ = d.list_structures("meaux", "cultures du coeur")
    assert found[0].name == "Cultures du cœur Seine-et-Marne" and len(found[0].relays) == 6
    assert len(found) > 1  # its relays mention it in their missions: ranked after it
