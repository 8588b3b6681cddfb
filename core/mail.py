"""Sending e-mail with ``smtplib`` and ``email.message``, when the platform has SMTP.

Without ``smtp_host`` nothing is sent and callers show a list to copy instead: a
small network often mails from its own address book, and that must keep working.

A message always has one recipient: partners of a network must never see each other's
addresses in ``To:`` (the directory shows generic addresses, not personal ones).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.settings import Settings

#: The errors of one SMTP exchange that say "this server, now" (retry later), as opposed
#: to a refused recipient (:class:`smtplib.SMTPRecipientsRefused`, never retried).
UNREACHABLE: tuple[type[BaseException], ...] = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


@dataclass(frozen=True)
class Attachment:
    """A file joined to a message. A calendar (``text/calendar``) carries its iTIP ``method``."""

    filename: str
    data: bytes
    maintype: str = "application"
    subtype: str = "octet-stream"
    method: str | None = None


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


@contextmanager
def connect(settings: Settings) -> Iterator[smtplib.SMTP]:
    """One SMTP session, for sending several messages (a campaign's links)."""
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=20) as smtp:
        yield smtp


def calendar_attachment(ics: bytes, method: str = "REQUEST", filename: str = "rencontre.ics") -> Attachment:
    """An iTIP calendar object (RFC 6047): its ``method`` is repeated on the MIME part, as clients expect."""
    return Attachment(filename=filename, data=ics, maintype="text", subtype="calendar", method=method)


def build(
    settings: Settings,
    to: str | Sequence[str],
    subject: str,
    body: str,
    ics: bytes | None = None,
    *,
    method: str = "REQUEST",
    attachments: Sequence[Attachment] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """One message. ``to`` is one address (a list of one is accepted, for older callers);
    ``ics`` is a shortcut for a calendar attachment of the iTIP ``method`` it was written with."""
    addresses = [to] if isinstance(to, str) else list(to)
    if len(addresses) != 1:
        raise ValueError("a message has exactly one recipient: send one per address")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = addresses[0]
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="trame")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    files = list(attachments)
    if ics is not None:
        files.insert(0, calendar_attachment(ics, method))
    for a in files:
        params = {"method": a.method} if a.method else {}
        msg.add_attachment(a.data, maintype=a.maintype, subtype=a.subtype, filename=a.filename, params=params)
    return msg


def send(
    settings: Settings,
    to: Sequence[str],
    subject: str,
    body: str,
    ics: bytes | None = None,
    *,
    method: str = "REQUEST",
    per_recipient: Callable[[str], bytes | None] | None = None,
) -> bool:
    """Send one message per address, in one SMTP session; False (nothing sent) when SMTP is
    not configured or nobody to write to. ``per_recipient(address)`` builds the calendar of
    each message (an iTIP request names its attendee) instead of the shared ``ics``; ``method``
    is the iTIP method the calendars were written with (``REQUEST``, ``CANCEL``, ``PUBLISH``)."""
    recipients = list(dict.fromkeys(a for a in to if a))
    if not configured(settings) or not recipients:
        return False
    with connect(settings) as smtp:
        for address in recipients:
            calendar = per_recipient(address) if per_recipient is not None else ics
            smtp.send_message(build(settings, address, subject, body, calendar, method=method))
    return True
