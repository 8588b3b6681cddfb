"""The ``trame`` command line. Names and options are a contract: scripts depend on them."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import msgspec
import pluggy
from eventsourcing.persistence import StoredEvent

from core.application import Trame
from core.plugins import get_plugin_manager
from core.projection import ProgressBar
from core.refusals import Refused
from core.settings import Settings
from core.store import SYSTEM


class ExportLine(msgspec.Struct, tag_field="kind"):
    pass


class ErasedLine(ExportLine, tag="erased"):
    """One entry of the erasure register (written first: an import reads it before any key)."""

    subject_id: str
    erased_at: str


class KeyLine(ExportLine, tag="key"):
    subject_id: str
    key: str


class EventLine(ExportLine, tag="event"):
    position: int
    stream_id: str
    version: int
    type: str
    state: str  # the stored envelope, base64: exported byte for byte


#: Seconds between two passes of the mail sender started by ``trame serve``.
MAIL_POLL_SECONDS = 15.0


def _start_mail_sender(settings: Settings) -> threading.Event | None:
    """With SMTP configured, send the mailing queue from a background thread of the server,
    started once (not per request, nor per worker): nobody has to remember ``trame mailings
    send --follow``. It opens its own store connections; a failing pass is logged and retried."""
    from core import mail, mailings

    if not mail.configured(settings):
        return None
    stop = threading.Event()

    def loop() -> None:
        sender = Trame(settings)
        try:
            while not stop.is_set():
                try:
                    done = mailings.send_due(sender).done
                except Exception:
                    logging.getLogger("trame.mailings").exception("envoi des messages en attente")
                    done = 0
                if done < 200:  # a full batch means more is due at once
                    stop.wait(MAIL_POLL_SECONDS)
        finally:
            sender.close()

    threading.Thread(target=loop, name="trame-mailings", daemon=True).start()
    return stop


def _serve(trame: Trame, host: str, port: int, workers: int = 1) -> int:
    if "TRAME_BASE_URL" not in os.environ:
        # Links in mails, invitations and calendars point where this server really listens.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared, not bound
        os.environ["TRAME_BASE_URL"] = f"http://{shown}:{port}"
        trame.settings = dataclasses.replace(trame.settings, base_url=os.environ["TRAME_BASE_URL"])
    print(f"Trame écoute sur http://{host}:{port}/ (base : {trame.db.dialect}). Ctrl+C pour arrêter.", flush=True)
    sender = _start_mail_sender(trame.settings)
    try:
        return _run_server(trame, host, port, workers)
    finally:
        if sender is not None:
            sender.set()


def _run_server(trame: Trame, host: str, port: int, workers: int) -> int:
    import uvicorn

    from core.web.app import create_app

    if workers > 1:
        # Each worker process opens the store itself (the environment says which one), and
        # all sign CSRF tokens with one key, or a form served by one would fail on another.
        os.environ.setdefault("TRAME_SECRET_KEY", trame.settings.secret_key)
        trame.close()
        uvicorn.run("core.web.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info")
        return 0
    uvicorn.run(create_app(trame), host=host, port=port, log_level="info")
    return 0


def cmd_serve(trame: Trame, args: argparse.Namespace) -> int:
    if args.workers > 1 and trame.db.dialect == "sqlite":
        print("note : plusieurs processus sur SQLite écrivent chacun leur tour ; PostgreSQL est fait pour cela.", file=sys.stderr)
    return _serve(trame, args.host, args.port, args.workers)


def cmd_demo(trame: Trame, args: argparse.Namespace) -> int:
    from core.demo import build_demo

    created = build_demo(trame)
    if created:
        print("Démonstration créée. Comptes (mot de passe « demo-trame-2026 ») :")
        for email, what in created:
            print(f"  {email:32} {what}")
    else:
        print("Démonstration déjà en place (comptes : voir README).")
    if args.no_serve:
        return 0
    return _serve(trame, args.host, args.port)


def cmd_user_create(trame: Trame, args: argparse.Namespace) -> int:
    account_id = trame.accounts.create(args.email, args.password, admin=args.admin)
    print(account_id)
    return 0


def cmd_token_create(trame: Trame, args: argparse.Namespace) -> int:
    account = trame.accounts.by_email(args.email)
    if account is None:
        print(f"aucun compte pour {args.email}", file=sys.stderr)
        return 1
    print(trame.accounts.issue_token(account["account_id"], args.label, author=SYSTEM))
    return 0


def cmd_rebuild(trame: Trame, args: argparse.Namespace) -> int:
    names = [args.name] if args.name else None
    started = time.monotonic()
    bar = ProgressBar(lambda line: print(line, end="", file=sys.stderr, flush=True)) if sys.stderr.isatty() else None
    count = trame.runner.rebuild(names, progress=bar)
    elapsed = time.monotonic() - started
    if bar is not None:
        print(file=sys.stderr)
    print(f"{count} événements rejoués en {elapsed:.1f} s", file=sys.stderr)
    return 0


def cmd_project(trame: Trame, args: argparse.Namespace) -> int:
    if not args.follow:
        print(f"{trame.runner.catch_up()} événements projetés", file=sys.stderr)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("Projections en continu (Ctrl+C pour arrêter).", file=sys.stderr, flush=True)
    trame.runner.follow(stop, poll_seconds=args.poll)
    return 0


def cmd_export(trame: Trame, args: argparse.Namespace) -> int:
    """The whole log as NDJSON: the erasure register, the keys of people not erased, then every event as stored."""
    encoder = msgspec.json.Encoder()
    count = 0
    with Path(args.file).open("wb") as out:
        for subject_id, erased_at in trame.keys.register():
            out.write(encoder.encode(ErasedLine(subject_id=subject_id, erased_at=erased_at)) + b"\n")
        for subject_id, key in trame.keys.export():
            out.write(encoder.encode(KeyLine(subject_id=subject_id, key=key)) + b"\n")
        after = 0
        while True:
            batch = trame.store.raw(after, 5000)
            if not batch:
                break
            for position, stream_id, version, topic, state in batch:
                line = EventLine(
                    position=position,
                    stream_id=str(stream_id),
                    version=version,
                    type=topic,
                    state=base64.b64encode(state).decode(),
                )
                out.write(encoder.encode(line) + b"\n")
                count += 1
            after = batch[-1][0]
    print(f"{count} événements exportés vers {args.file}", file=sys.stderr)
    return 0


def read_register(path: Path) -> list[tuple[str, str]]:
    """The erasure register at the head of an export (``trame export`` writes it first)."""
    decoder = msgspec.json.Decoder(ErasedLine | KeyLine | EventLine)
    entries: list[tuple[str, str]] = []
    with path.open("rb") as source:
        for number, raw in enumerate(source, start=1):
            if not raw.strip():
                continue
            try:
                line = decoder.decode(raw)
            except msgspec.DecodeError as exc:
                raise ValueError(f"{path}, ligne {number} : {exc}") from None
            if not isinstance(line, ErasedLine):
                break  # the register is over: keys and events follow
            entries.append((line.subject_id, line.erased_at))
    return entries


def cmd_import(trame: Trame, args: argparse.Namespace) -> int:
    if trame.store.max_position():
        print("import refusé : la base contient déjà des événements (importez dans une base vide)", file=sys.stderr)
        return 1
    if args.erasures:
        # A newer register first: the keys it names are never restored from this older copy.
        newer = read_register(Path(args.erasures))
        trame.keys.honour(newer)
        print(f"{len(newer)} effacements du registre {args.erasures} appliqués", file=sys.stderr)
    decoder = msgspec.json.Decoder(ErasedLine | KeyLine | EventLine)
    batch: list[StoredEvent] = []
    count = 0
    withheld = 0
    with Path(args.file).open("rb") as source:
        for number, raw in enumerate(source, start=1):
            if not raw.strip():
                continue
            try:
                line = decoder.decode(raw)
            except msgspec.DecodeError as exc:
                print(f"ligne {number} : {exc}", file=sys.stderr)
                return 1
            if isinstance(line, ErasedLine):
                trame.keys.honour([(line.subject_id, line.erased_at)])
                continue
            if isinstance(line, KeyLine):
                withheld += not trame.keys.restore(line.subject_id, line.key)
                continue
            if line.type not in trame.registry:
                print(f"ligne {number} : type d'événement inconnu {line.type} (module manquant ?)", file=sys.stderr)
                return 1
            batch.append(StoredEvent(UUID(line.stream_id), line.version, line.type, base64.b64decode(line.state)))
            if len(batch) >= 2000:
                trame.store.append_stored(batch)
                count += len(batch)
                batch = []
    if batch:
        trame.store.append_stored(batch)
        count += len(batch)
    trame.runner.catch_up()
    if withheld:
        print(f"{withheld} clés de personnes effacées depuis cette copie non restaurées (registre des effacements)", file=sys.stderr)
    print(f"{count} événements importés", file=sys.stderr)
    return 0


def cmd_plugins(trame: Trame, args: argparse.Namespace) -> int:
    for info in sorted(trame.catalog.info.values(), key=lambda i: i.name):
        needs = f" (nécessite {', '.join(info.needs)})" if info.needs else ""
        print(f"{info.name}\t{info.title}{needs}")
    return 0


def build_parser(pm: pluggy.PluginManager | None = None) -> argparse.ArgumentParser:
    """The CLI's parser; ``pm`` adds the plugins' commands."""
    parser = argparse.ArgumentParser(prog="trame", description="Trame : réseaux partenariaux de l'action sociale.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="servir l'application web")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="processus web (PostgreSQL conseillé au-delà de 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="créer les territoires de démonstration puis servir")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="créer la démonstration sans lancer le serveur")
    p.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="comptes").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("create", help="créer un compte")
    p.add_argument("email")
    p.add_argument("--password", required=True)
    p.add_argument("--admin", action="store_true")
    p.set_defaults(func=cmd_user_create)

    token = sub.add_parser("token", help="jetons d'API").add_subparsers(dest="token_command", required=True)
    p = token.add_parser("create", help="créer un jeton d'API (seul le jeton est écrit sur la sortie)")
    p.add_argument("email")
    p.add_argument("--label", default="")
    p.set_defaults(func=cmd_token_create)

    p = sub.add_parser("rebuild", help="reconstruire une projection (ou toutes) depuis le premier événement")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("project", help="mettre les projections à jour")
    p.add_argument("--follow", action="store_true", help="continuer à projeter les nouveaux événements")
    p.add_argument("--poll", type=float, default=0.5, help="secondes entre deux lectures du journal")
    p.set_defaults(func=cmd_project)

    p = sub.add_parser("export", help="exporter tout le journal d'événements (NDJSON)")
    p.add_argument("file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="importer un export NDJSON dans une base vide")
    p.add_argument("file")
    p.add_argument(
        "--erasures",
        metavar="FICHIER",
        help="appliquer le registre des effacements d'un export plus récent (les personnes effacées depuis ne reviennent pas)",
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("plugins", help="lister les modules installés")
    p.set_defaults(func=cmd_plugins)

    if pm is not None:
        pm.hook.register_commands(subparsers=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Arguments first: `trame --help` or a typo must not open (or create) the store.
    args = build_parser(get_plugin_manager()).parse_args(argv)
    trame = Trame(Settings.from_env())
    try:
        return int(args.func(trame, args))
    except (Refused, ValueError, LookupError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    finally:
        trame.close()


if __name__ == "__main__":
    sys.exit(main())
