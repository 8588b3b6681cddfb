"""The demo: the territories of the seeds, their modules, and accounts to try them.

Organisations are real public bodies named in the seed documents; every person is
fictional. Each plugin writes its own demo data through its ``demo_data`` hook.
"""

from __future__ import annotations

from core import structures
from core.application import Trame
from core.store import SYSTEM

PASSWORD = "demo-trame-2026"  # noqa: S105 - published demo password, fictional accounts

#: territory slug -> (title, modules to enable, in dependency order)
TERRITORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "meaux": ("Meaux et Provins (RESO77)", ("annuaire", "lexique", "diffusion", "rencontres", "evaluations", "projets")),
    "agen": ("Agen – quartier de Montanou", ("annuaire", "rencontres", "cafe", "diffusion")),
    "fumel": ("Fumel (circonscription)", ("annuaire", "rencontres", "cafe", "diffusion")),
    "joigny": ("Joigny", ("annuaire", "rencontres", "charte", "partenariats", "lexique")),
    "marseille": ("Marseille – Maison de l'emploi (MDEM)", ("annuaire", "rencontres", "immersions")),
}


def build_demo(trame: Trame) -> list[tuple[str, str]]:
    """Create what is missing; return the accounts created (e-mail, what they can do)."""
    created: list[tuple[str, str]] = []
    if trame.accounts.by_email("admin@trame.example") is None:
        trame.accounts.create("admin@trame.example", PASSWORD, admin=True)
        created.append(("admin@trame.example", "administration de la plateforme"))
    for slug, (title, modules) in TERRITORIES.items():
        if trame.territories.get(slug) is not None:
            continue
        trame.territories.create(slug, title, author=SYSTEM)
        for module in modules:
            if module in trame.catalog.info:
                trame.territories.enable(slug, module, author=SYSTEM, reason="démonstration")
        email = f"coordination.{slug}@trame.example"
        account_id = trame.accounts.create(email, PASSWORD, display_name=f"Coordination {title}")
        trame.accounts.grant(account_id, slug, "coordinator", author=SYSTEM)
        created.append((email, f"coordination — {title}"))
        member = f"membre.{slug}@trame.example"
        member_id = trame.accounts.create(member, PASSWORD)
        trame.accounts.grant(member_id, slug, "member", author=SYSTEM)
        created.append((member, f"membre — {title}"))
        enabled = trame.territories.enabled_plugins(slug)
        for plugin in _in_dependency_order(trame, enabled):
            others = [p for p in trame.pm.get_plugins() if p is not plugin]
            trame.pm.subset_hook_caller("demo_data", remove_plugins=others)(trame=trame, territory=slug)
        referent = _demo_referent(trame, slug)
        if referent:
            created.append(referent)
    return created


#: The fictional referent of each territory, and the structure they speak for (the first
#: structure whose name holds this text, else the first by name).
REFERENTS = {"meaux": ("Camille Roussel", "CCAS"), "agen": ("Yanis Ferrand", "CCAS"),
             "fumel": ("Léa Morvan", "Mission locale"), "joigny": ("Hugo Castel", "CCAS")}  # fmt: skip


def _demo_referent(trame: Trame, slug: str) -> tuple[str, str] | None:
    """A referent account bound to one structure, to try what a structure does itself:
    sign a charter online, answer a campaign or an invitation, keep its own sheet."""
    choices = structures.choices(trame, slug)
    if not choices:
        return None
    name, wanted = REFERENTS.get(slug, ("Alex Martin", ""))
    structure_id, structure_name = next(((i, n) for i, n in choices if wanted and wanted.casefold() in n.casefold()), choices[0])
    email = f"referent.{slug}@trame.example"
    account_id = trame.accounts.create(email, PASSWORD, display_name=name)
    trame.accounts.grant(account_id, slug, "referent", structure_id=structure_id, author=SYSTEM)
    return email, f"référent·e de {structure_name} — {TERRITORIES[slug][0]}"


def _in_dependency_order(trame: Trame, names: set[str]) -> list[object]:
    """Plugins after those they need, so that a café's demo finds the directory's structures."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered or name not in names:
            return
        for need in trame.catalog.info[name].needs:
            visit(need)
        ordered.append(name)

    for name in sorted(names):
        visit(name)
    return [trame.catalog.module_of(name) for name in ordered]
