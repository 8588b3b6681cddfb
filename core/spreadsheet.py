"""CSV that a spreadsheet cannot execute (OWASP « CSV Injection »), and reads back as typed.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, DDE): a structure
named ``=cmd|' /C calc'!A0`` would run on the coordinator's machine. Every CSV Trame writes
goes through :func:`writer`, which prefixes such a cell with an apostrophe (the spreadsheet
shows the text, without the apostrophe); :func:`restore` undoes it on import, so that an
exported file imports back exactly (a phone number ``+33 5 53…`` stays one).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """The cell as text that no spreadsheet evaluates. A text already starting with an apostrophe
    before a formula character gets one more, so that :func:`restore` gives it back unchanged."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_STARTS) or (text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS)):
        return "'" + text
    return text


def restore(cell: str) -> str:
    """The text typed, from a cell written by :func:`neutralise` (other cells unchanged)."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeWriter:
    """``csv.writer`` whose every cell is neutralised."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([neutralise(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **options: Any) -> SafeWriter:
    """The CSV writer every export uses (same options as :func:`csv.writer`)."""
    return SafeWriter(out, **options)
