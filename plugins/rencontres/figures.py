"""Participation figures over a period, and the bar chart that draws them.

Funders and the network itself ask "who came?": the participation rate per meeting
(structures present / structures invited) and per structure (meetings attended /
meetings it was invited to or came to), the structures of the directory never seen,
and the newcomers (first presence ever within the period). The chart is a plain SVG
computed here, so it needs no JavaScript; the table is its accessible alternative.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from plugins.annuaire import public as annuaire
from plugins.rencontres.recurrence import long_date

if TYPE_CHECKING:
    from core.application import Trame


@dataclass
class MeetingFigure:
    meeting_id: str
    day: str
    title: str
    invited: int
    present: int
    excused: int
    recorded: bool = True  # attendance was entered; without it the meeting has no rate

    @property
    def rate(self) -> float | None:
        return None if not self.invited or not self.recorded else self.present / self.invited

    @property
    def date_label(self) -> str:
        return long_date(self.day)


@dataclass
class StructureFigure:
    structure_id: str
    name: str
    expected: int  # invited to, or came to
    present: int
    excused: int

    @property
    def rate(self) -> float | None:
        return None if not self.expected else self.present / self.expected


@dataclass
class Figures:
    since: str
    until: str
    meetings: list[MeetingFigure] = field(default_factory=list)
    structures: list[StructureFigure] = field(default_factory=list)
    never_seen: list[str] = field(default_factory=list)
    newcomers: list[str] = field(default_factory=list)

    @property
    def overall_rate(self) -> float | None:
        invited = sum(m.invited for m in self.meetings if m.recorded)
        return None if not invited else sum(m.present for m in self.meetings if m.recorded) / invited


def compute(
    trame: Trame, territory: str, since: str, until: str, plugin: str | None = None, series_ids: Collection[str] | None = None
) -> Figures:
    """The figures of the territory's meetings over a period, of one plugin and/or of some series only
    (a charter counts its own cycles: the same attendance, read from the same tables as this page)."""
    names = annuaire.names(trame, territory)
    plugin_sql = " AND m.plugin = ?" if plugin else ""
    extra: list[Any] = [plugin] if plugin else []
    if series_ids is not None:
        wanted = sorted(set(series_ids))
        if not wanted:
            return Figures(since=since, until=until)
        plugin_sql += f" AND m.series_id IN ({', '.join('?' * len(wanted))})"
        extra += wanted
    with trame.db.read() as cur:
        meetings = cur.execute(
            "SELECT m.meeting_id, m.day, m.title FROM rencontres_meetings m WHERE m.territory = ? AND m.status <> 'cancelled' "
            f"AND m.day >= ? AND m.day <= ?{plugin_sql} ORDER BY m.starts_at",
            (territory, since, until, *extra),
        ).fetchall()
        ids = [r["meeting_id"] for r in meetings]
        invited: dict[str, set[str]] = {i: set() for i in ids}
        present: dict[str, set[str]] = {i: set() for i in ids}
        excused: dict[str, set[str]] = {i: set() for i in ids}
        for row in cur.execute(
            "SELECT i.meeting_id, i.structure_id FROM rencontres_invitations i JOIN rencontres_meetings m ON m.meeting_id = i.meeting_id "
            f"WHERE m.territory = ? AND m.status <> 'cancelled' AND m.day >= ? AND m.day <= ?{plugin_sql}",
            (territory, since, until, *extra),
        ).fetchall():
            invited[row["meeting_id"]].add(row["structure_id"])
        for row in cur.execute(
            "SELECT a.meeting_id, a.structure_id, a.status FROM rencontres_attendance a JOIN rencontres_meetings m "
            "ON m.meeting_id = a.meeting_id "
            f"WHERE m.territory = ? AND m.status <> 'cancelled' AND m.day >= ? AND m.day <= ?{plugin_sql}",
            (territory, since, until, *extra),
        ).fetchall():
            (present if row["status"] == "present" else excused)[row["meeting_id"]].add(row["structure_id"])
        first_seen = {
            r["structure_id"]: r["first_day"]
            for r in cur.execute(
                "SELECT a.structure_id, MIN(m.day) AS first_day FROM rencontres_attendance a JOIN rencontres_meetings m "
                "ON m.meeting_id = a.meeting_id "
                f"WHERE m.territory = ? AND a.status = 'present' AND m.status <> 'cancelled'{plugin_sql} GROUP BY a.structure_id",
                (territory, *extra),
            ).fetchall()
        }
    out = Figures(since=since, until=until)
    for r in meetings:
        mid = r["meeting_id"]
        # A structure that came without an invitation still counts as expected.
        expected = invited[mid] | present[mid]
        recorded = bool(present[mid] or excused[mid])
        out.meetings.append(
            MeetingFigure(mid, r["day"], r["title"], len(expected), len(present[mid]), len(excused[mid] - present[mid]), recorded)
        )
    # Rates per structure only over meetings whose attendance was entered (a meeting to come is nobody's absence).
    ids = [m.meeting_id for m in out.meetings if m.recorded]
    seen: set[str] = set()
    involved: set[str] = set().union(*(invited[i] | present[i] | excused[i] for i in ids))
    for sid in involved:
        exp = sum(1 for i in ids if sid in invited[i] or sid in present[i])
        pres = sum(1 for i in ids if sid in present[i])
        exc = sum(1 for i in ids if sid in excused[i] and sid not in present[i])
        if pres:
            seen.add(sid)
        out.structures.append(StructureFigure(sid, names.get(sid, sid), exp, pres, exc))
    out.structures.sort(key=lambda s: (-(s.rate or 0), s.name.casefold()))
    out.never_seen = sorted((n for sid, n in names.items() if sid not in seen), key=str.casefold)
    out.newcomers = sorted((names.get(sid, sid) for sid, day in first_seen.items() if since <= day <= until), key=str.casefold)
    return out


def bar_chart(figures: Figures, *, width: int = 720, height: int = 240) -> dict[str, Any]:
    """Geometry of an SVG bar chart of the participation rate per meeting (0-100 %)."""
    left, bottom, top = 40, 50, 10
    plot_h = height - bottom - top
    n = max(len(figures.meetings), 1)
    slot = (width - left - 10) / n
    bars = []
    for i, m in enumerate(figures.meetings):
        rate = m.rate or 0.0
        h = round(plot_h * rate, 1)
        bars.append(
            {
                "x": round(left + i * slot + slot * 0.15, 1),
                "y": round(top + plot_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": h,
                "label": f"{m.day[8:10]}/{m.day[5:7]}/{m.day[2:4]}" if n <= 24 else "",
                "value": f"{round(rate * 100)} %",
                "title": f"{m.date_label} : {m.present} présentes sur {m.invited} attendues",
                "tx": round(left + i * slot + slot / 2, 1),
            }
        )
    ticks = [{"y": round(top + plot_h - plot_h * p / 100, 1), "label": f"{p} %"} for p in (0, 25, 50, 75, 100)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "left": left, "base": top + plot_h, "right": width - 10}
