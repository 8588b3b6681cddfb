"""These tests load the plugins they need by name (entry points off), as the meta-test does, so
that another plugin being installed beside them (or half-written) never changes what they test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.application import Trame
from core.database import PostgresDatabase
from core.settings import Settings
from core.testing import make_database


@pytest.fixture
def trame(backend: str, tmp_path: Path) -> Iterator[Trame]:
    from plugins import annuaire, charte, partenariats, rencontres

    db = make_database(backend, tmp_path)
    settings = Settings(database_url="unused://", secret_key="test-secret")
    app = Trame(settings, db=db, plugins=[annuaire, rencontres, charte, partenariats], entry_points=False)
    yield app
    if isinstance(db, PostgresDatabase):
        db.drop_schema()
    app.close()
