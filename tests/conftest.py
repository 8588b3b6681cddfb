from __future__ import annotations

import pytest

from tests.events_for_tests import EssaiPlugin


@pytest.fixture
def extra_plugins() -> list[object]:
    return [EssaiPlugin()]
