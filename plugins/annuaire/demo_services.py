"""Loading the demo services (``demo_services.json``) through the services' commands.

Each service is offered by "system" from its ``since`` day; ``stopped`` and ``restarted``
days, when given, are written after it, so the demo shows a service that stopped and restarted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from core.store import SYSTEM
from plugins.annuaire.services import ServiceIn, services

if TYPE_CHECKING:
    from core.application import Trame

DATA = Path(__file__).parent / "demo_services.json"
DEMO = "Données de démonstration"


def records(territory: str) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return list(data["territories"].get(territory, []))


def load(trame: Trame, territory: str, structure_ids: dict[str, str]) -> list[str]:
    """Offer the demo services of ``territory``; ``structure_ids`` maps the demo's structure keys to
    ids (what the directory's demo just wrote; empty when it wrote nothing: then nothing is done)."""
    if not structure_ids:
        return []
    svc = services(trame)
    written: list[str] = []
    for item in records(territory):
        fields = {k: v for k, v in item.items() if k not in ("structure", "since", "stopped", "restarted")}
        data = msgspec.convert({**fields, "effective": item["since"], "reason": DEMO}, ServiceIn)
        service_id = svc.offer(territory, structure_ids[item["structure"]], data, author=SYSTEM)
        if item.get("stopped"):
            svc.stop(territory, service_id, author=SYSTEM, effective=item["stopped"], reason=DEMO)
        if item.get("restarted"):
            svc.restart(territory, service_id, author=SYSTEM, effective=item["restarted"], reason=DEMO)
        written.append(service_id)
    return written
