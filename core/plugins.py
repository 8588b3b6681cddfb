"""The plugin host: loads plugins from the ``trame.plugins`` entry points and checks them."""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import cast

import pluggy

from core import hookspecs

ENTRY_POINT_GROUP = "trame.plugins"
#: Built-in plugins that every Trame has, loaded by name before the entry points.
DEFAULT_PLUGINS = ("projections",)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    title: str
    description: str = ""
    needs: tuple[str, ...] = ()
    #: Infrastructure that every territory has (cannot be disabled).
    always_on: bool = False


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str  # relative to the territory, e.g. "annuaire/"
    order: int = 50


@dataclass(frozen=True)
class PageSection:
    title: str
    html: str  # already escaped (markupsafe.Markup or rendered from an autoescaping template)
    order: int = 50
    plugin: str = field(default="")


def get_plugin_manager(extra: Iterable[ModuleType | object] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """Built-in and third-party plugins come through entry points; ``extra`` adds plugins
    directly (tests). ``check_pending`` makes a misspelt hook fail at start-up."""
    pm = pluggy.PluginManager("trame")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points:
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if pm.get_plugin(ep.name) is None:
                pm.register(ep.load(), name=ep.name)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    return pm


class PluginCatalog:
    """What the installed plugins are and need."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.info: dict[str, PluginInfo] = {}
        self._plugins: dict[str, object] = {}
        self._names: dict[int, str] = {}
        described = {id(impl.plugin): impl for impl in pm.hook.plugin_info.get_hookimpls()}
        for plugin in pm.get_plugins():
            impl = described.get(id(plugin))
            if impl is None:
                raise TypeError(f"plugin {pm.get_name(plugin)!r} does not implement plugin_info()")
            info = cast(PluginInfo, impl.function())
            if info.name in self.info:
                raise ValueError(f"two plugins are named {info.name!r}")
            self.info[info.name] = info
            self._plugins[info.name] = plugin
            self._names[id(plugin)] = info.name
        for info in self.info.values():
            missing = [n for n in info.needs if n not in self.info]
            if missing:
                raise ValueError(f"plugin {info.name!r} needs {', '.join(missing)}, which is not installed")

    def optional(self) -> list[PluginInfo]:
        return sorted((i for i in self.info.values() if not i.always_on), key=lambda i: i.name)

    def name_of(self, plugin: object) -> str:
        """The name a registered plugin object gave itself in ``plugin_info``."""
        return self._names[id(plugin)]

    def module_of(self, name: str) -> object:
        """The plugin object (usually its module) of the plugin named ``name``."""
        return self._plugins[name]
