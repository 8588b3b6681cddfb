"""``Idempotency-Key`` on the JSON API's POSTs: a client may retry after a timeout without writing twice.

A POST under ``/api/v1/`` carrying ``Idempotency-Key: <1 to 200 printable characters>`` is
recorded per account (the bearer token's) for 24 hours. The first request with a key runs;
its answer (status, headers, body) is kept, and every later request with the same key gets
that answer again, marked ``Idempotent-Replayed: true``, without running the command. Two
requests racing with one key: the second waits for the first to finish (a few seconds at
most), then replays it. The same key with another method, path or body is a 422; an answer
5xx is not kept (the retry runs). Without the header nothing changes.

The claim on a key is a row inserted before the command (``INSERT ... ON CONFLICT DO
NOTHING``, atomic on SQLite and PostgreSQL across workers); the answer is written into it
right after the command's own transaction commits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core import clock
from core.database import Database
from core.refusals import conflict, invalid
from core.web.bodies import read_body

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
WAIT_SECONDS = 30.0
PENDING = 0
KEY = re.compile(r"[!-~](?:[ -~]*[!-~])?")  # printable ASCII (what HTTP headers carry safely), no edge spaces

DDL = [
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    " account_id TEXT NOT NULL, key_digest TEXT NOT NULL, request_digest TEXT NOT NULL, claim TEXT NOT NULL,"
    " status INTEGER NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,"
    " PRIMARY KEY (account_id, key_digest))",
    "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at)",
]

OPENAPI_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Clé choisie par le client (1 à 200 caractères imprimables, par exemple un UUID) pour pouvoir réessayer sans "
        "risque : pendant 24 heures, une requête portant la même clé, du même compte, reçoit la réponse de la première "
        "(en-tête Idempotent-Replayed: true) sans refaire l'écriture. La même clé avec un autre corps : 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~](?:[ -~]*[!-~])?$"},
}


_SELECT = "SELECT request_digest, claim, status, headers, body FROM idempotency_keys WHERE account_id = ? AND key_digest = ?"


def _digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def create_table(db: Database) -> None:
    """At app start, once: created lazily by concurrent first requests, PostgreSQL's
    CREATE TABLE IF NOT EXISTS races on its catalog."""
    with db.write() as cur:
        for stmt in DDL:
            cur.execute(stmt)


class Idempotency:
    """ASGI middleware (inside the app's error handler, so its refusals are the usual JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == ScopeType.HTTP else {}
        key = headers.get(HEADER.lower().encode())
        if key is None or scope.get("method") != "POST" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        text = key.decode("latin-1").strip()
        if not 1 <= len(text) <= 200 or not KEY.fullmatch(text):
            raise invalid("L'en-tête Idempotency-Key doit faire 1 à 200 caractères imprimables (par exemple un UUID).", "Idempotency-Key")
        db: Database = scope["app"].state.trame.db
        account = await anyio.to_thread.run_sync(self._account, db, headers.get(b"authorization", b""))
        if account is None:  # the guard answers 401
            await self.app(scope, receive, send)
            return
        body, replayed = await read_body(receive)
        request_digest = _digest(b"\n".join([b"POST", scope["path"].encode(), scope.get("query_string", b""), body]))
        key_digest = _digest(text.encode())
        claim = secrets.token_hex(16)
        stored = await anyio.to_thread.run_sync(self._claim, db, account, key_digest, request_digest, claim)
        deadline = time.monotonic() + WAIT_SECONDS
        while stored is not None and stored["claim"] != claim and stored["status"] == PENDING and time.monotonic() < deadline:
            await anyio.sleep(0.05)  # the first request with this key is running: wait for its answer
            stored = await anyio.to_thread.run_sync(self._row, db, account, key_digest)
            if stored is None:  # it failed and let the key go: ours to run
                stored = await anyio.to_thread.run_sync(self._claim, db, account, key_digest, request_digest, claim)
        if stored is not None and stored["claim"] != claim:
            if stored["request_digest"] != request_digest:
                raise HTTPException(
                    status_code=422, detail="Cette clé Idempotency-Key a déjà servi pour une autre requête : choisissez-en une nouvelle."
                )
            if stored["status"] == PENDING:
                raise conflict("Une requête avec cette clé Idempotency-Key est encore en cours : réessayez dans un instant.", HEADER)
            await _replay(send, stored)
            return
        await self._run_and_keep(scope, replayed, send, db, account, key_digest)

    async def _run_and_keep(self, scope: Scope, replayed: Receive, send: Send, db: Database, account: str, key_digest: str) -> None:
        answer: dict[str, Any] = {"status": 0, "headers": [], "body": b""}

        async def keeping(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                answer["headers"] = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replayed, keeping)
        except BaseException:
            await anyio.to_thread.run_sync(self._release, db, account, key_digest)
            raise
        if answer["status"] >= 500 or answer["status"] == 0:
            await anyio.to_thread.run_sync(self._release, db, account, key_digest)
        else:
            await anyio.to_thread.run_sync(self._keep, db, account, key_digest, answer)

    # -- storage (worker threads) -------------------------------------------------------------
    def _account(self, db: Database, authorization: bytes) -> str | None:
        header = authorization.decode("latin-1")
        if not header.lower().startswith("bearer "):
            return None
        from core.accounts import digest

        with db.read() as cur:
            value = cur.scalar("SELECT account_id FROM api_tokens WHERE digest = ?", (digest(header[7:].strip()),))
        return None if value is None else str(value)

    def _claim(self, db: Database, account: str, key_digest: str, request_digest: str, claim: str) -> dict[str, Any] | None:
        """Insert our claim unless the key is taken; return the row that holds the key now."""
        now = datetime.now(UTC)
        with db.write() as cur:
            cur.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (clock.instant(now - KEEP),))
            cur.execute(
                "INSERT INTO idempotency_keys (account_id, key_digest, request_digest, claim, status, headers, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, '[]', '', ?) ON CONFLICT (account_id, key_digest) DO NOTHING",
                (account, key_digest, request_digest, claim, PENDING, clock.instant(now)),
            )
            row = cur.execute(_SELECT, (account, key_digest)).fetchone()
        return None if row is None else dict(row)

    def _row(self, db: Database, account: str, key_digest: str) -> dict[str, Any] | None:
        with db.read() as cur:
            row = cur.execute(_SELECT, (account, key_digest)).fetchone()
        return None if row is None else dict(row)

    def _keep(self, db: Database, account: str, key_digest: str, answer: dict[str, Any]) -> None:
        with db.write() as cur:
            cur.execute(
                "UPDATE idempotency_keys SET status = ?, headers = ?, body = ? WHERE account_id = ? AND key_digest = ?",
                (
                    answer["status"],
                    json.dumps(answer["headers"]),
                    base64.b64encode(answer["body"]).decode(),
                    account,
                    key_digest,
                ),
            )

    def _release(self, db: Database, account: str, key_digest: str) -> None:
        with db.write() as cur:
            cur.execute("DELETE FROM idempotency_keys WHERE account_id = ? AND key_digest = ?", (account, key_digest))


async def _replay(send: Send, stored: dict[str, Any]) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(stored["headers"])]
    headers = [h for h in headers if h[0].lower() not in (b"set-cookie",)] + [(b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": int(stored["status"]), "headers": headers})
    await send({"type": "http.response.body", "body": base64.b64decode(stored["body"]), "more_body": False})


def document(schema: Any) -> None:
    """Add the header to every POST of the JSON API in the OpenAPI document (called once at start-up)."""
    from litestar.enums import ParamType
    from litestar.openapi.spec import OpenAPIType, Parameter, Schema

    for path, item in (schema.paths or {}).items():
        if not path.startswith("/api/v1/") or item.post is None:
            continue
        parameters = list(item.post.parameters or [])
        if any(getattr(p, "name", None) == HEADER for p in parameters):
            continue
        parameters.append(
            Parameter(
                name=HEADER,
                param_in=ParamType.HEADER,
                required=False,
                description=str(OPENAPI_PARAMETER["description"]),
                schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=200, pattern=str(OPENAPI_PARAMETER["schema"]["pattern"])),  # type: ignore[index]
            )
        )
        item.post.parameters = parameters
