"""The core's read models (territories and modules, accounts and roles, the journal),
registered as a built-in plugin, the way any plugin registers its own projections.

The core imports no module of this package: :func:`core.plugins.get_plugin_manager`
loads it by name, as Datasette loads its ``default_*`` plugins.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from core.hookspecs import hookimpl
from core.plugins import PluginInfo

if TYPE_CHECKING:
    from core.application import Trame
    from core.events import Event
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
    from projections.mailings import MailingsProjection
    from projections.territories import TerritoriesProjection

    return [TerritoriesProjection(), AccountsProjection(), JournalProjection(), MailingsProjection()]


@hookimpl
def register_events() -> list[type[Event]]:
    """The core's mailings queue (``core/mailings.py``): any plugin sends to a list through it."""
    from core.mailings import EVENTS

    return list(EVENTS)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``trame mailings send [--follow]``: the sender of the mailings queue (``core/mailings.py``)."""
    p = subparsers.add_parser("mailings", help="envois au groupe")
    sub = p.add_subparsers(dest="mailings_command", required=True)
    send = sub.add_parser("send", help="envoyer les messages dont le tour est venu (--follow : continuer)")
    send.add_argument("--follow", action="store_true", help="continuer, et réessayer un serveur d'envoi en panne")
    send.add_argument("--poll", type=float, default=30.0, help="secondes entre deux passages (défaut 30)")
    send.set_defaults(func=_send_mailings)


def _send_mailings(trame: Trame, args: Any) -> int:
    import signal
    import sys
    import threading

    from core import mailings

    def say(step: mailings.StepReport) -> None:
        print(
            f"{step.sent} envoyé(s), {step.refused} refusé(s), {step.deferred} à réessayer, {step.abandoned} abandonné(s)",
            file=sys.stderr,
            flush=True,
        )

    if not args.follow:
        say(mailings.send_due(trame))
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    mailings.follow(trame, stop, args.poll, say)
    return 0
