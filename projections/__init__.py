"""The core's read models (territories and modules, accounts and roles, the journal),
registered as a built-in plugin, the way any plugin registers its own projections.

The core imports no module of this package: :func:`core.plugins.get_plugin_manager`
loads it by name, as Datasette loads its ``default_*`` plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.hookspecs import hookimpl
from core.plugins import PluginInfo

if TYPE_CHECKING:
    from core.projection import Projection


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="socle",
        title="Socle",
        description="Territoires et modules, comptes et rôles, journal des changements.",
        always_on=True,
    )


@hookimpl
def register_projections() -> list[Projection]:
    from projections.accounts import AccountsProjection
    from projections.journal import JournalProjection
    from projections.territories import TerritoriesProjection

    return [TerritoriesProjection(), AccountsProjection(), JournalProjection()]
