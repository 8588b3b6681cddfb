"""Configuration, read once from ``TRAME_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _default_database() -> str:
    return f"sqlite:///{Path('var/trame.db').absolute()}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database)
    #: Signs CSRF tokens. Set it in production so that tokens survive restarts.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    #: Set when served over TLS: cookies become ``__Host-`` and Secure.
    secure_cookies: bool = False
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "trame@localhost"
    #: Public base URL, for links sent by e-mail.
    base_url: str = "http://127.0.0.1:8000"
    #: Log in failures allowed per e-mail and per client in 15 minutes.
    login_attempts: int = 5
    #: Run projections after every write (read-your-writes); followers do it otherwise.
    project_inline: bool = True
    #: Events applied per projection transaction.
    projection_batch: int = 2000

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {}
        if "TRAME_DATABASE_URL" in env:
            values["database_url"] = env["TRAME_DATABASE_URL"]
        if "TRAME_SECRET_KEY" in env:
            values["secret_key"] = env["TRAME_SECRET_KEY"]
        if "TRAME_SECURE_COOKIES" in env:
            values["secure_cookies"] = env["TRAME_SECURE_COOKIES"].lower() in ("1", "true", "yes")
        if "TRAME_SMTP_HOST" in env:
            values["smtp_host"] = env["TRAME_SMTP_HOST"]
        if "TRAME_SMTP_PORT" in env:
            values["smtp_port"] = int(env["TRAME_SMTP_PORT"])
        if "TRAME_MAIL_FROM" in env:
            values["mail_from"] = env["TRAME_MAIL_FROM"]
        if "TRAME_BASE_URL" in env:
            values["base_url"] = env["TRAME_BASE_URL"].rstrip("/")
        if "TRAME_PROJECT_INLINE" in env:
            values["project_inline"] = env["TRAME_PROJECT_INLINE"].lower() not in ("0", "false", "no")
        if "TRAME_PROJECTION_BATCH" in env:
            values["projection_batch"] = int(env["TRAME_PROJECTION_BATCH"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
