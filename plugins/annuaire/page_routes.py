"""The directory's own pages, one module for each thing they serve (usable without JavaScript)."""

from __future__ import annotations

from typing import Any

from plugins.annuaire import (
    contact_pages,
    directory_pages,
    journal_pages,
    lifecycle_pages,
    person_pages,
    resource_people_pages,
    sheet_pages,
    structure_pages,
)

_MODULES = (
    directory_pages,
    structure_pages,
    sheet_pages,
    lifecycle_pages,
    contact_pages,
    person_pages,
    resource_people_pages,
    journal_pages,
)
ROUTES: list[Any] = [route for module in _MODULES for route in module.ROUTES]
