"""Sending e-mail with ``smtplib`` and ``email.message``, when the platform has SMTP.

Without ``smtp_host`` nothing is sent and callers show a list to copy instead: a
small network often mails from its own address book, and that must keep working.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.settings import Settings


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


@contextmanager
def connect(settings: Settings) -> Iterator[smtplib.SMTP]:
    """One SMTP session, for sending several messages (a campaign's links)."""
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=20) as smtp:
        yield smtp


def build(settings: Settings, to: list[str], subject: str, body: str, ics: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="trame")
    msg.set_content(body)
    if ics is not None:
        msg.add_attachment(ics, maintype="text", subtype="calendar", filename="rencontre.ics", params={"method": "PUBLISH"})
    return msg


def send(settings: Settings, to: list[str], subject: str, body: str, ics: bytes | None = None) -> bool:
    """Send one message; False (nothing sent) when SMTP is not configured or nobody to write to."""
    if not configured(settings) or not to:
        return False
    with connect(settings) as smtp:
        smtp.send_message(build(settings, to, subject, body, ics))
    return True
