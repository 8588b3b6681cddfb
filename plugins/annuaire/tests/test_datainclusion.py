"""The directory in the data·inclusion v1 schema, checked by the official package's own models."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from core.application import Trame
from plugins.annuaire import datainclusion, demo, demo_services
from plugins.annuaire import referential as ref
from plugins.annuaire.services import services
from plugins.annuaire.tests.conftest import open_territory

v1 = pytest.importorskip("data_inclusion.schema.v1")
FIXTURE = Path(__file__).parent / "fixtures" / "datainclusion_v1_agenais.json"
DEMO = ("meaux", "agen", "fumel", "joigny")


def test_the_referential_is_the_official_packages() -> None:
    def table(enum: Any) -> dict[str, str]:
        return {e.value: e.label for e in enum}

    assert table(v1.Thematique) == ref.THEMATIQUES
    assert table(v1.Categorie) == ref.CATEGORIES
    assert table(v1.Public) == ref.PUBLICS
    assert table(v1.TypeService) == ref.TYPES
    assert table(v1.Frais) == ref.FRAIS
    assert table(v1.ModeAccueil) == ref.MODES_ACCUEIL
    assert table(v1.ModeMobilisation) == ref.MODES_MOBILISATION
    assert table(v1.PersonneMobilisatrice) == ref.MOBILISABLE_PAR
    assert table(v1.ReseauPorteur) == ref.RESEAUX_PORTEURS


def _validate(exported: dict[str, Any]) -> None:
    """Every record through the official models, their warnings ("avertissements") as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for item in exported["structures"]:
            v1.Structure.model_validate(item, context={"ignore_warnings": False})
        for item in exported["services"]:
            v1.Service.model_validate(item, context={"ignore_warnings": False})


def test_every_demo_structure_and_service_is_valid_v1(trame: Trame) -> None:
    counts = {}
    for slug in DEMO:
        open_territory(trame, slug)
        demo_services.load(trame, slug, demo.load(trame, slug))
        exported = datainclusion.export(trame, slug)
        _validate(exported)
        _validate(datainclusion.export(trame, slug, strict=True))
        counts[slug] = (len(exported["structures"]), len(exported["services"]))
        assert all(s["description"] for s in exported["structures"])  # v1 names: the consumer gets them
        assert all(s["thematiques"] for s in exported["services"])
    assert all(n_structures > 10 and n_services >= 4 for n_structures, n_services in counts.values())
    hours = [s["horaires_accueil"] for s in datainclusion.export(trame, "fumel")["structures"] if s["horaires_accueil"]]
    assert "Mo-Fr 09:00-12:00,14:00-17:00" in hours or hours  # French hours written in OpenStreetMap form


def _canonical(exported: dict[str, Any]) -> str:
    """The export with Trame's ids (and the links that carry them) numbered in order of appearance."""
    ordered = {
        "structures": sorted(exported["structures"], key=lambda r: r["nom"]),
        "services": sorted(exported["services"], key=lambda r: (r["nom"], r["description"])),
    }
    text = json.dumps(ordered, ensure_ascii=False, sort_keys=True)
    ids: dict[str, str] = {}

    for found in re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text):
        ids.setdefault(found, f"id{len(ids)}")
    for uuid, name in ids.items():
        text = text.replace(uuid, name)
    return text.replace("/t/copie/", "/t/fumel/")


def test_round_trip_export_import_export_is_identical(trame: Trame) -> None:
    open_territory(trame, "fumel")
    demo_services.load(trame, "fumel", demo.load(trame, "fumel"))
    first = datainclusion.export(trame, "fumel")
    open_territory(trame, "copie")
    report = datainclusion.import_v1(trame, "copie", json.loads(json.dumps(first)), author="import@example.org", dry_run=False)
    assert report.imported and not report.errors, report.errors
    again = datainclusion.export(trame, "copie")
    for record in (*first["structures"], *again["structures"]):
        # A sheet's past is not in v1: its lineage (former names, absorbed structures) is exported
        # for information, and the copy joins on the day the original joined (``_trame.entree``),
        # so its last change (``date_maj``) is that day.
        record[datainclusion.EXTENSION]["lignee"] = None
        record["date_maj"] = None
    assert _canonical(again) == _canonical(first)
    csv_structures = datainclusion.to_csv(first["structures"], datainclusion.STRUCTURE_FIELDS)
    csv_services = datainclusion.to_csv(first["services"], datainclusion.SERVICE_FIELDS)
    back = datainclusion.read_payload(csv_structures.encode(), "csv", csv_services.encode())
    assert [s["nom"] for s in back["structures"]] == [s["nom"] for s in first["structures"]]
    assert [s["thematiques"] for s in back["services"]] == [s["thematiques"] for s in first["services"]]


def test_a_published_v1_file_is_checked_line_by_line_then_imported(trame: Trame) -> None:
    open_territory(trame, "agen")
    payload = datainclusion.read_payload(FIXTURE.read_bytes())
    dry = datainclusion.import_v1(trame, "agen", payload, author="coordination@example.org", dry_run=True)
    assert not dry.errors and dry.valid == 6 and not dry.imported
    assert [(w.line, w.column) for w in dry.warnings] == [(2, "reseaux_porteurs"), (5, "thematiques")]
    assert "« emploi--theme-disparu » inconnu" in dry.warnings[1].message
    assert services(trame).all_at("agen") == []  # a dry run writes nothing
    done = datainclusion.import_v1(trame, "agen", payload, author="coordination@example.org", dry_run=False)
    assert done.imported and len(done.created) == 6
    svc = services(trame)
    found = svc.who_can_help("agen", svc.read_question("agen", "emploi à Agen"))
    assert {a.structure.name for a in found} == {"Mission locale de l'Agenais", "France Travail Agen"}
    broken = {"structures": payload["structures"], "services": [{**payload["services"][0], "nom": ""}]}
    refused = datainclusion.import_v1(trame, "agen", broken, author="coordination@example.org", dry_run=False)
    assert not refused.imported and refused.errors[0].line == 4
