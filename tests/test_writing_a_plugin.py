"""A new plugin written from the README's "Writing a plugin" and ``core/hookspecs.py`` alone.

It is what a newcomer writes first: a weekly drop-in hour (« permanence ») a structure holds,
announced by an event, read through a projection, changed by a command that decides on its
stream and says no with the core's refusal, behind the core's guard on the JSON API. If this
file needs anything the README does not say, the README is not enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import pytest
from litestar import Request, get, post
from litestar.testing import TestClient

from core.application import Trame
from core.commands import History, run
from core.database import Cursor
from core.events import Event, Recorded
from core.hookspecs import hookimpl
from core.plugins import PluginInfo
from core.projection import Projection
from core.refusals import conflict, invalid
from core.store import SYSTEM, Context
from core.testing import login, make_user
from core.web.access import author_of


class PermanenceAnnounced(Event, frozen=True):
    """A structure holds a drop-in hour on a weekday, at a place."""

    name = "permanences.PermanenceAnnounced"
    journal_label = "Permanence annoncée"
    weekday: str
    place: str


class PermanencesProjection(Projection):
    name = "permanences"
    topics = (PermanenceAnnounced.name,)
    tables = ("permanences",)

    def schema(self, dialect: str) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS permanences (territory TEXT NOT NULL, weekday TEXT NOT NULL, place TEXT NOT NULL)"]

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        assert isinstance(rec.event, PermanenceAnnounced)
        cur.execute("INSERT INTO permanences VALUES (?, ?, ?)", (rec.territory, rec.event.weekday, rec.event.place))


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")


def announce(trame: Trame, territory: str, weekday: str, place: str, author: str) -> None:
    """One permanence per weekday and territory, decided on the territory's permanence stream."""
    if weekday not in WEEKDAYS:
        raise invalid(f"« {weekday} » n'est pas un jour ouvré : choisissez parmi {', '.join(WEEKDAYS)}.", "weekday")
    stream = uuid5(NAMESPACE_URL, f"permanences:{territory}")

    def decide(history: History) -> dict[UUID, Sequence[Event]]:
        taken = {r.event.weekday for r in history.of(stream) if isinstance(r.event, PermanenceAnnounced)}
        if weekday in taken:
            raise conflict(f"Une permanence a déjà lieu le {weekday}.", "weekday")
        return {stream: [PermanenceAnnounced(weekday=weekday, place=place)]}

    run(trame, Context(author=author, territory=territory), [stream], decide)


class PermanenceIn(msgspec.Struct):
    weekday: str
    place: str


class PermanenceOut(msgspec.Struct):
    weekday: str
    place: str


@post("/api/v1/territories/{slug:str}/permanences", opt={"role": "coordinator"}, sync_to_thread=True)
def create(request: Request[Any, Any, Any], trame: Trame, slug: str, data: PermanenceIn) -> PermanenceOut:
    announce(trame, slug, data.weekday, data.place, author_of(request))
    return PermanenceOut(weekday=data.weekday, place=data.place)


@get("/api/v1/territories/{slug:str}/permanences", sync_to_thread=True)
def listing(trame: Trame, slug: str) -> list[PermanenceOut]:
    with trame.db.read() as cur:
        rows = cur.execute("SELECT weekday, place FROM permanences WHERE territory = ? ORDER BY weekday", (slug,)).fetchall()
    return [PermanenceOut(weekday=r["weekday"], place=r["place"]) for r in rows]


class Permanences:
    """The plugin: a plain object whose methods are hook implementations."""

    @hookimpl
    def plugin_info(self) -> PluginInfo:
        return PluginInfo(name="permanences", title="Permanences", description="Les permanences des structures.")

    @hookimpl
    def register_events(self) -> list[type[Event]]:
        return [PermanenceAnnounced]

    @hookimpl
    def register_projections(self) -> list[Projection]:
        return [PermanencesProjection()]

    @hookimpl
    def register_routes(self) -> list[Any]:
        return [create, listing]


@pytest.fixture
def extra_plugins() -> list[object]:
    return [Permanences()]


def test_a_plugin_written_from_the_readme_works_end_to_end(trame: Trame, client: TestClient[Any]) -> None:
    trame.territories.create("fumel", "Fumel", author=SYSTEM)
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("fumel", "permanences", author=SYSTEM)
    coordinator = make_user(trame, "coordination@fumel.example", territory="fumel", role="coordinator")
    trame.accounts.grant(coordinator.account_id, "agen", "coordinator", author=SYSTEM)
    member = make_user(trame, "membre@fumel.example", territory="fumel", role="member")
    url = "/api/v1/territories/fumel/permanences"

    created = client.post(url, json={"weekday": "mardi", "place": "CCAS de Fumel"}, headers=coordinator.headers)
    assert created.status_code == 201, created.text
    # The author reads their own write: the projection ran in the command's transaction.
    assert client.get(url, headers=member.headers).json() == [{"weekday": "mardi", "place": "CCAS de Fumel"}]

    again = client.post(url, json={"weekday": "mardi", "place": "Mairie"}, headers=coordinator.headers)
    assert again.status_code == 409 and again.json()["field"] == "weekday" and "déjà lieu le mardi" in again.json()["detail"]
    sunday = client.post(url, json={"weekday": "dimanche", "place": "Mairie"}, headers=coordinator.headers)
    assert sunday.status_code == 400 and sunday.json()["field"] == "weekday"
    assert client.post(url, json={"weekday": "jeudi", "place": "Mairie"}, headers=member.headers).status_code == 403
    assert client.get("/api/v1/territories/agen/permanences", headers=coordinator.headers).status_code == 404  # off in Agen

    before = trame.runner.snapshot(["permanences"])
    trame.runner.rebuild(["permanences"])
    assert trame.runner.snapshot(["permanences"]) == before
    login(client, "coordination@fumel.example")
    journal = client.get("/t/fumel/journal")
    assert journal.status_code == 200 and "Permanence annoncée" in journal.text
