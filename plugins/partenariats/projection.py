"""The partnerships read model: their terms over time (bitemporal), their history, their evaluations.

Terms live in a :class:`core.bitemporal.BitemporalTable`: "which partnerships ran on
2010-06-01, as we knew it on 2011-01-01?" is an index seek, never a replay. The history
table keeps who changed what, when it was recorded and why; evaluations are a plain list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core.bitemporal import BitemporalTable
from core.database import Cursor
from core.events import Recorded
from core.projection import Projection
from plugins.partenariats import events as ev

PARTNERSHIPS = BitemporalTable("partenariats_partnerships", columns=("kind",))
GRID_FIELDS = ("what_works", "obstacles", "steering", "communication", "public_feedback", "evolution")


_OURS = (ev.PartnershipRecorded, ev.PartnershipAmended, ev.PartnershipEnded, ev.PartnershipEvaluated)


def _terms(e: ev.PartnershipRecorded | ev.PartnershipAmended) -> dict[str, Any]:
    return {
        "title": e.title,
        "kind": e.kind,
        "form": e.form,
        "partners": [msgspec.to_builtins(p) for p in e.partners],
        "ends_on": e.ends_on,
        "convention_ref": e.convention_ref,
        "renewal_on": e.renewal_on,
        "description": e.description,
    }


class PartnershipsProjection(Projection):
    name = "partenariats"
    version = 1
    topics = tuple(e.name for e in ev.EVENTS)
    tables = (*PARTNERSHIPS.tables, "partenariats_history", "partenariats_evaluations")

    def __init__(self) -> None:
        self.dialect = ""

    def schema(self, dialect: str) -> list[str]:
        self.dialect = dialect
        grid = ", ".join(f"{f} TEXT NOT NULL" for f in GRID_FIELDS)
        return [
            *PARTNERSHIPS.schema(dialect),
            "CREATE TABLE IF NOT EXISTS partenariats_history (position BIGINT PRIMARY KEY, territory TEXT NOT NULL, "
            "partnership_id TEXT NOT NULL, event TEXT NOT NULL, effective TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "author TEXT NOT NULL, reason TEXT)",
            "CREATE INDEX IF NOT EXISTS partenariats_history_of ON partenariats_history (partnership_id, position)",
            "CREATE TABLE IF NOT EXISTS partenariats_evaluations (evaluation_id TEXT PRIMARY KEY, territory TEXT NOT NULL, "
            f"partnership_id TEXT NOT NULL, evaluated_on TEXT NOT NULL, {grid}, author TEXT NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS partenariats_evaluations_of ON partenariats_evaluations (partnership_id, evaluated_on)",
        ]

    def indexes(self, dialect: str) -> list[str]:
        return PARTNERSHIPS.indexes()

    def apply(self, cur: Cursor, rec: Recorded) -> None:
        self.apply_many(cur, [rec])

    def apply_many(self, cur: Cursor, records: Sequence[Recorded]) -> None:
        batch = PARTNERSHIPS.batch(cur, self.dialect)
        for rec in records:
            e = rec.event
            if not isinstance(e, _OURS):  # never: the runner sends only the topics; this types e.partnership_id
                continue
            patch: dict[str, Any] | None = None
            if isinstance(e, ev.PartnershipRecorded):
                patch = {"exists": True, **_terms(e), "starts_on": e.starts_on, "ended": False, "end_reason": None}
            elif isinstance(e, ev.PartnershipAmended):
                patch = _terms(e)
            elif isinstance(e, ev.PartnershipEnded):
                patch = {"ends_on": e.ended_on, "ended": True, "end_reason": e.reason}
            elif isinstance(e, ev.PartnershipEvaluated):
                cur.execute(
                    "INSERT INTO partenariats_evaluations (evaluation_id, territory, partnership_id, evaluated_on, "
                    f"{', '.join(GRID_FIELDS)}, author, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (evaluation_id) DO NOTHING",
                    (
                        e.evaluation_id,
                        rec.territory,
                        e.partnership_id,
                        e.evaluated_on,
                        *(getattr(e, f) for f in GRID_FIELDS),
                        rec.author,
                        rec.recorded_at,
                    ),
                )
            if patch is not None:
                batch.record(
                    territory=rec.territory,
                    entity_id=e.partnership_id,
                    effective=rec.effective,
                    recorded_at=rec.recorded_at,
                    seq=rec.position,
                    patch=patch,
                )
            cur.execute(
                "INSERT INTO partenariats_history (position, territory, partnership_id, event, effective, recorded_at, author, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING",
                (rec.position, rec.territory, e.partnership_id, e.name, rec.effective, rec.recorded_at, rec.author, rec.reason),
            )
        batch.flush()
