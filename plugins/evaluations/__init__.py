"""Evaluation questionnaires: a coordinator writes a short questionnaire (seed 002's grid by
default), sends it to a mailing list; each structure answers through its own link without an
account, once, editable until the questionnaire closes; the results (figures and free-text
answers, printable) feed the network's yearly evaluation. Nothing in it names a person helped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import NavLink, PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
    from core.mailings import MailingList
    from core.projection import Projection


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="evaluations",
        title="Questionnaires d'évaluation",
        description="Un court questionnaire envoyé à une liste du réseau, une réponse par structure par un lien sans compte, "
        "et des résultats imprimables pour l'évaluation annuelle.",
        needs=("annuaire",),
    )


@hookimpl
def register_events() -> list[type[Event]]:
    from plugins.evaluations.events import EVENTS

    return EVENTS


@hookimpl
def register_projections() -> list[Projection]:
    from plugins.evaluations.projection import EvaluationsProjection

    return [EvaluationsProjection()]


@hookimpl
def register_routes() -> list[Any]:
    from plugins.evaluations import api, pages

    return [*pages.ROUTES, *api.ROUTES]


@hookimpl
def register_templates() -> str | None:
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static() -> str | None:
    return str(Path(__file__).parent / "static")


@hookimpl
def navigation_links(territory: str, role: str | None) -> list[NavLink]:
    return [NavLink("Évaluations", "evaluations/", order=65)]


@hookimpl
def mailing_lists(trame: Trame, territory: str) -> list[MailingList]:
    from plugins.evaluations.service import evaluations

    return evaluations(trame).mailing_lists(territory)


@hookimpl
def demo_data(trame: Trame, territory: str) -> None:
    from plugins.evaluations.demo import load

    load(trame, territory)
