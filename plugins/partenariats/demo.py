"""Demo partnerships of Joigny: the 2010 charter as a partnership of the « initiative » form whose
partners are its signatories over time (read through the charter's public service), and a few
conventions, a funding, a prescription and a relay around the CCAS, with evaluations.

Organisations are the real ones of the demo directory; the conventions' references, dates and
evaluations are illustrative (the seeds do not give them). Dates near today are computed from
today, so that the coordinator's reminders always have something to show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from core import clock
from core.store import SYSTEM
from plugins.annuaire import public as annuaire
from plugins.partenariats.service import AmendmentIn, EndIn, EvaluationIn, PartnerIn, PartnershipIn, partnerships

if TYPE_CHECKING:
    from core.application import Trame

DEMO = "Données de démonstration"
CHARTER_DESCRIPTION = (
    "Les partenaires signataires de la charte des rencontres partenariales portée par le CCAS : une rencontre tous les deux mois, "
    "pour coordonner les réponses, présenter les dispositifs et se connaître (voir le module Charte)."
)


def _day(offset: int) -> str:
    return (date.fromisoformat(clock.paris_today()) + timedelta(days=offset)).isoformat()


def load(trame: Trame, territory: str) -> None:
    if territory != "joigny":
        return
    svc = partnerships(trame)
    if svc.at(territory, as_of=clock.now(), running=False) or svc.at(territory, as_of=clock.parse("2010-06-01"), running=False):
        return
    annuaire.ensure_demo(trame, territory)

    def sid(name: str) -> str | None:
        found = annuaire.find_by_name(trame, territory, name)
        return found.id if found else None

    ccas = sid("CCAS de Joigny")
    if ccas is None:
        return
    _charter(trame, territory, ccas)
    cg, cram, caf = (
        sid("Conseil général de l'Yonne"),
        sid("CRAM de Bourgogne et de Franche-Comté – service social"),
        sid("Caisse d'allocations familiales de l'Yonne"),
    )
    ml, croix_rouge, udaf = (
        sid("Mission locale – antenne de Joigny"),
        sid("Croix-Rouge française – unité locale de Migennes"),
        sid("Udaf de l'Yonne"),
    )

    def record(
        title: str,
        kind: str,
        form: str,
        partners: list[tuple[str | None, str]],
        starts_on: str,
        *,
        ends_on: str | None = None,
        renewal_on: str | None = None,
        convention_ref: str | None = None,
        description: str = "",
    ) -> str | None:
        if any(p is None for p, _ in partners):
            return None
        data = PartnershipIn(
            title=title,
            kind=kind,
            form=form,
            partners=[PartnerIn(structure_id=p, role=r) for p, r in partners if p],
            starts_on=starts_on,
            reason=DEMO,
            ends_on=ends_on,
            renewal_on=renewal_on,
            convention_ref=convention_ref,
            description=description,
        )
        return svc.record(territory, data, author=SYSTEM)

    def evaluate(pid: str | None, on: str, **texts: str) -> None:
        if pid:
            svc.evaluate(territory, pid, EvaluationIn(evaluated_on=on, **texts), author=SYSTEM)

    rsa = record(
        "Convention d'accompagnement des allocataires du RSA",
        "convention",
        "impose",
        [(ccas, "terrain"), (cg, "financeur")],
        "2010-04-01",
        ends_on="2012-12-31",
        renewal_on="2012-10-01",
        convention_ref="CG89-RSA-2010-07",
        description="Le CCAS accompagne les allocataires du RSA de Joigny orientés par le Département, qui finance l'accompagnement.",
    )
    if rsa:
        svc.amend(
            territory,
            rsa,
            AmendmentIn(
                title="Convention d'accompagnement des allocataires du RSA",
                kind="convention",
                form="impose",
                partners=[PartnerIn(structure_id=ccas, role="terrain"), PartnerIn(structure_id=str(cg), role="financeur")],
                ends_on=_day(45),
                renewal_on=_day(15),
                convention_ref="CD89-RSA-2013-02",
                description="Renouvelée chaque année par avenant ; le Département finance l'accompagnement assuré par le CCAS.",
                effective="2013-01-01",
                reason="Renouvellement de la convention (avenant annuel)",
            ),
            author=SYSTEM,
        )
        evaluate(
            rsa,
            _day(-40),
            what_works="Les orientations arrivent avec un premier diagnostic partagé ; les rendez-vous sont tenus dans le mois.",
            obstacles="Délais de réorientation vers l'emploi encore longs.",
            steering="Comité de suivi semestriel CCAS – Département.",
        )
    cram_pid = record(
        "Coopération avec le service social de l'Assurance maladie",
        "convention",
        "palliatif",
        [(ccas, "terrain"), (cram, "prescripteur")],
        "2010-05-03",
        convention_ref="CRAM-BFC-89-2010-113",
        description="Orientations réciproques pour l'accès aux droits santé et la prévention de la désinsertion professionnelle.",
    )
    evaluate(
        cram_pid,
        "2011-06-15",
        what_works="Les assistantes sociales se connaissent ; les orientations sont rapides.",
        communication="Une fiche de liaison commune depuis mars 2011.",
        evolution="Ouvrir la coopération aux permanences de Migennes.",
    )
    caf_pid = record(
        "Financement du point d'accueil des familles",
        "financement",
        "impose",
        [(caf, "financeur"), (ccas, "terrain")],
        "2011-01-01",
        description="La CAF finance le point d'accueil des familles tenu par le CCAS.",
    )
    evaluate(
        caf_pid,
        _day(-60),
        what_works="Fréquentation stable ; les familles reviennent.",
        public_feedback="Les familles apprécient l'accueil sans rendez-vous le mercredi.",
    )
    ml_pid = record(
        "Prescriptions du fonds d'aide aux jeunes",
        "prescription",
        "palliatif",
        [(ml, "prescripteur"), (ccas, "terrain")],
        "2010-03-12",
        description="La Mission locale oriente vers le CCAS les jeunes qui ont besoin d'une aide d'urgence du fonds d'aide aux jeunes.",
    )
    evaluate(ml_pid, _day(-120), what_works="Circuit court entre les deux accueils.", obstacles="Dossiers parfois incomplets.")
    relay = record(
        "Relais de l'aide alimentaire",
        "relais",
        "initiative",
        [(ccas, "terrain"), (croix_rouge, "terrain")],
        "2010-04-01",
        description="Le CCAS oriente vers la distribution de la Croix-Rouge de Migennes les personnes de Joigny qui en ont besoin.",
    )
    if relay:
        svc.end(
            territory,
            relay,
            EndIn(ended_on="2011-12-31", reason="Ouverture d'une épicerie sociale à Joigny (exemple de démonstration)"),
            author=SYSTEM,
        )
    record(
        "Mesures d'accompagnement social personnalisé",
        "convention",
        "impose",
        [(udaf, "terrain"), (cg, "financeur")],
        "2011-06-01",
        convention_ref="CG89-MASP-2011-03",
        description="Le Département confie à l'Udaf des mesures d'accompagnement social personnalisé.",
    )


def _charter(trame: Trame, territory: str, ccas: str) -> None:
    """The charter's signatories over time, as the partners of one « initiative » partnership."""
    if not trame.territories.is_enabled(territory, "charte"):
        return
    from plugins.charte.public import charters

    csvc = charters(trame)
    found = [c for c in csvc.all(territory) if c["form"] == "initiative" and c["adopted_on"]]
    if not found:
        return
    charter = found[0]
    cid = charter["charter_id"]
    signatures: list[dict[str, Any]] = csvc.signatures(territory, cid)
    statuses: list[dict[str, Any]] = csvc.status_history(territory, cid)
    ended = [s["on_day"] for s in statuses if s["status"] == "ended"]
    end = ended[0] if ended else None
    days = sorted({s["signed_on"] for s in signatures} | {s["ended_on"] for s in signatures if s["ended_on"] < "9999"})
    days = [d for d in days if end is None or d < end]
    roles = {s.id: next((r for r in s.roles if r in ("terrain", "prescripteur", "financeur", "interne")), "terrain")
             for s in annuaire.structures(trame, territory)}  # fmt: skip
    svc = partnerships(trame)
    pid: str | None = None
    previous: set[str] = set()
    for day in days:
        signed: list[dict[str, Any]] = csvc.signatories(territory, cid, day)
        partners = {s["structure_id"] for s in signed} | {ccas}
        if partners == previous or len(partners) < 2:
            continue
        listed = [PartnerIn(structure_id=p, role="terrain" if p == ccas else roles.get(p, "terrain")) for p in sorted(partners)]
        terms = {"title": charter["title"], "kind": "reseau", "form": "initiative", "partners": listed, "description": CHARTER_DESCRIPTION}
        if pid is None:
            pid = svc.record(territory, PartnershipIn(**terms, starts_on=day, reason=DEMO + " (signataires de la charte)"), author=SYSTEM)
        else:
            svc.amend(territory, pid, AmendmentIn(**terms, effective=day, reason="Signatures de la charte à cette date"), author=SYSTEM)
        previous = partners
    if pid and end:
        svc.end(territory, pid, EndIn(ended_on=end, reason=charter.get("status_reason") or "Fin de la charte"), author=SYSTEM)
