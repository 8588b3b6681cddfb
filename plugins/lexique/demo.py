"""The demo glossary: the starter list adopted, then amended as a coordinator would for the territory.

The directory's structures link the terms that name them (the MDS, the CCAS), and a
structure's acronym that the national list lacks and that its name spells out (« CG77 »,
Conseil général de Seine-et-Marne) becomes a local term. An acronym whose meaning the
documents do not give (« AEDE », « SMPJPM ») is left out rather than guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.store import SYSTEM
from core.text import fold
from plugins.annuaire import public as annuaire
from plugins.lexique.service import TermChange, TermIn, lexique

if TYPE_CHECKING:
    from core.application import Trame

REASON = "Démonstration"
#: Former acronyms that old sheets and minutes still use (the Conseils généraux became départementaux in 2015).
FORMER = {
    "meaux": (("CG77", "Conseil général de Seine-et-Marne", "Ancien nom du Conseil départemental de Seine-et-Marne, jusqu'en 2015."),),
    "joigny": (("CG89", "Conseil général de l'Yonne", "Ancien nom du Conseil départemental de l'Yonne, jusqu'en 2015."),),
}


def load(trame: Trame, territory: str) -> None:
    """Does nothing when the territory's list was already adopted."""
    svc = lexique(trame)
    if svc.adoption(territory) is not None:
        return
    annuaire.ensure_demo(trame, territory)
    svc.adopt_starter(territory, author=SYSTEM, reason=f"{REASON} : liste nationale de départ")
    known = {fold(t.term): t for t in svc.terms(territory)}
    for s in annuaire.structures(trame, territory):
        acronym = (s.acronym or "").strip()
        if not acronym:
            continue
        term = known.get(fold(acronym))
        if term is not None:
            if term.structure_id is None and fold(acronym) in ("mds", "ccas", "mde", "ml"):
                svc.amend(
                    territory,
                    term.id,
                    TermChange(
                        expansion=term.expansion,
                        definition=term.definition,
                        structure_id=s.id,
                        national=term.national,
                        reason=f"{REASON} : la structure du territoire",
                    ),
                    author=SYSTEM,
                )
        elif fold(acronym) not in fold(s.name) and " " in s.name.strip():
            svc.add(
                territory,
                TermIn(term=acronym, expansion=s.name, structure_id=s.id, reason=f"{REASON} : sigle d'une structure du territoire"),
                author=SYSTEM,
            )
            known[fold(acronym)] = svc.terms(territory, acronym)[0]
    for former, expansion, definition in FORMER.get(territory, ()):
        if fold(former) not in known:
            svc.add(
                territory, TermIn(term=former, expansion=expansion, definition=definition, reason=f"{REASON} : ancien sigle"), author=SYSTEM
            )
