"""Shared set-up for the meetings and café tests: a territory with its directory."""

from __future__ import annotations

from collections.abc import Callable

from pytest import MonkeyPatch

from core.application import Trame
from core.events import Recorded
from core.store import SYSTEM, Context, Write
from core.testing import User, make_user
from plugins.annuaire import public as annuaire

STRUCTURES = {
    "cs": ("Centre social Nord-Est d'Agen", "7 rue des Glycines, 47000 Agen", ["famille", "jeunesse"]),
    "cms": ("Centre médico-social de Montanou", "3 place de Montanou, 47000 Agen", ["sante", "famille"]),
    "ml": ("Mission locale de l'Agenais", "12 rue Lamouroux, 47000 Agen", ["emploi-insertion", "jeunesse"]),
    "regie": ("Régie de quartier", "Rue des Iris, 47000 Agen", ["emploi-insertion", "logement"]),
}


def territory(trame: Trame, slug: str = "agen", plugins: tuple[str, ...] = ("annuaire", "rencontres")) -> str:
    trame.territories.create(slug, slug.capitalize(), author=SYSTEM)
    for p in plugins:
        trame.territories.enable(slug, p, author=SYSTEM)
    return slug


def structures(trame: Trame, slug: str = "agen") -> dict[str, str]:
    """key -> structure id, each with a generic e-mail address."""
    return {
        key: annuaire.create(
            trame, slug, author=SYSTEM, data=annuaire.StructureIn(name=name, address=address, themes=themes, email=f"{key}@agen.example")
        )
        for key, (name, address, themes) in STRUCTURES.items()
    }


def coordinator(trame: Trame, slug: str = "agen") -> User:
    return make_user(trame, f"coordination@{slug}.example", territory=slug, role="coordinator")


def referent(trame: Trame, structure_id: str, slug: str = "agen", email: str = "referent@agen.example") -> User:
    return make_user(trame, email, territory=slug, role="referent", structure_id=structure_id)


def loses_a_race(trame: Trame, monkeypatch: MonkeyPatch, rival: Callable[[], object]) -> None:
    """The next command's first append finds ``rival`` written since it read its streams: what it
    decided then was decided on a stale version, and must be decided again on the newer history."""
    execute = trame.execute

    def rival_first(ctx: Context, *writes: Write) -> list[Recorded]:
        monkeypatch.setattr(trame, "execute", execute)
        rival()
        return execute(ctx, *writes)

    monkeypatch.setattr(trame, "execute", rival_first)
