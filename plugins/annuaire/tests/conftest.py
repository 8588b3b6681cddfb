"""Fixtures of the directory's tests: a territory with the plugin on, and a small history."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.application import Trame
from core.store import SYSTEM
from plugins.annuaire.schemas import ContactEnd, ContactIn, PersonIn, StructureIn, StructurePatch
from plugins.annuaire.service import Directory, directory


def open_territory(trame: Trame, slug: str) -> str:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    trame.territories.enable(slug, "annuaire", author=SYSTEM)
    return slug


@pytest.fixture
def agen(trame: Trame) -> str:
    return open_territory(trame, "agen")


@pytest.fixture
def d(trame: Trame) -> Directory:
    return directory(trame)


@dataclass
class Employment:
    agency: str  # ANPE, then Pôle emploi, then France Travail
    assedic: str
    laetitia: str  # the Pôle emploi referent from 2009 to 2012
    contact: str


@pytest.fixture
def employment(d: Directory, agen: str) -> Employment:
    """The employment agency of Agen through its three names, and its 2010 referent."""
    agency, _ = d.create_structure(
        agen,
        StructureIn(name="ANPE – agence locale d'Agen", acronym="ANPE", kind="france-travail", communes=["Agen"], effective="2007-10-05"),
        SYSTEM,
    )
    assedic, _ = d.create_structure(agen, StructureIn(name="Assédic – antenne d'Agen", effective="2007-10-05"), SYSTEM)
    d.merge_structure(agen, assedic, agency, "2008-12-19", SYSTEM, "Fusion ANPE-Assédic")
    d.update_structure(
        agen,
        agency,
        StructurePatch(name="Pôle emploi – agence d'Agen", acronym=None, effective="2008-12-19"),
        d.version(agen, agency),
        SYSTEM,
    )
    d.update_structure(
        agen,
        agency,
        StructurePatch(name="France Travail – agence d'Agen", effective="2024-01-01", reason="Loi pour le plein emploi"),
        d.version(agen, agency),
        SYSTEM,
    )
    laetitia, _ = d.create_person(agen, PersonIn(name="Laëtitia Faure", email="laetitia.faure@pole-emploi.example"), SYSTEM)
    contact, _ = d.start_contact(agen, agency, ContactIn(person_id=laetitia, role="referent", since="2009-09-15"), SYSTEM)
    d.end_contact(agen, agency, contact, ContactEnd(until="2012-07-01"), SYSTEM)
    return Employment(agency, assedic, laetitia, contact)
