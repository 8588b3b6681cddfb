"""Middlewares that read a request's body before the app does: read it once, replay it after."""

from __future__ import annotations

from litestar.types import Receive, ReceiveMessage


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands the app the same messages again."""
    messages: list[ReceiveMessage] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    replay = iter(messages)

    async def replayed() -> ReceiveMessage:
        try:
            return next(replay)
        except StopIteration:
            return await receive()

    return body, replayed
