"""What a spreadsheet import checks beyond the cells: French phone numbers, and the likely
duplicates of structures already in the directory ("Croix Rouge de Meaux" beside "Croix-Rouge").

A spreadsheet reads "01 60 12 34 56" typed without spaces as the number 160123456: the
leading zero is gone. The import says so and puts it back, rather than keep a number no one
can dial or refuse the whole file. A duplicate is only likely: the coordinator decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.text import words
from plugins.annuaire.schemas import StructureOut

#: Words that say nothing about which structure it is ("Croix-Rouge de Meaux" is "croix rouge meaux").
_FILLERS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "sur"})


@dataclass(frozen=True)
class Phone:
    """A phone cell read: the text to keep, and what to tell the coordinator (``error``: refused)."""

    text: str
    message: str | None = None
    error: bool = False


def _spaced(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def french_phone(cell: str) -> Phone:
    """The phone as typed when it is a French number (10 digits from 0, or +33 / 0033 and 9 digits);
    nine digits not starting with 0 are a number whose leading zero a spreadsheet dropped."""
    text = cell.strip()
    digits = re.sub(r"[\s.\-/()]", "", text)
    international = re.fullmatch(r"(?:\+|00)33(?:\(0\))?([1-9]\d{8})", digits)
    if international or re.fullmatch(r"0[1-9]\d{8}", digits):
        return Phone(text)
    if re.fullmatch(r"[1-9]\d{8}", digits):
        restored = _spaced("0" + digits)
        return Phone(
            restored, f"Le numéro « {text} » a perdu son 0 initial (le tableur l'a lu comme un nombre) : importé comme « {restored} »."
        )
    return Phone(text, f"« {text} » n'est pas un numéro de téléphone français (10 chiffres, par exemple 01 60 12 34 56).", error=True)


def phone_key(phone: str | None) -> str | None:
    """The last nine digits: "+33 1 60 12 34 56" and "01.60.12.34.56" are the same line."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 9 else None


def name_key(name: str) -> frozenset[str]:
    return frozenset(w for w in words(name) if w not in _FILLERS)


def close_names(a: str, b: str) -> bool:
    """Every telling word of one name is in the other (accents, case, hyphens and "de" aside)."""
    ka, kb = name_key(a), name_key(b)
    return bool(ka and kb) and (ka <= kb or kb <= ka)


@dataclass(frozen=True)
class Likely:
    structure: StructureOut
    why: str  # « même téléphone », « même e-mail », « nom proche »


class Existing:
    """The directory's structures indexed by phone, e-mail and telling word, so that each line of
    a 100 000-line import is compared with the few that share something, not with all."""

    def __init__(self, structures: Iterable[StructureOut]) -> None:
        self.by_phone: dict[str, list[StructureOut]] = {}
        self.by_email: dict[str, list[StructureOut]] = {}
        self.by_word: dict[str, list[StructureOut]] = {}
        for s in structures:
            if key := phone_key(s.phone):
                self.by_phone.setdefault(key, []).append(s)
            if s.email:
                self.by_email.setdefault(s.email.strip().casefold(), []).append(s)
            for word in name_key(s.name):
                self.by_word.setdefault(word, []).append(s)

    def likely(self, fields: dict[str, object]) -> list[Likely]:
        """The structures an imported line probably is, with why."""
        name = str(fields.get("name") or "")
        phone = phone_key(str(fields.get("phone") or ""))
        email = str(fields.get("email") or "").strip().casefold()
        reasons: dict[str, list[str]] = {}
        found: dict[str, StructureOut] = {}

        def add(items: Iterable[StructureOut], why: str) -> None:
            for s in items:
                found.setdefault(s.id, s)
                if why not in reasons.setdefault(s.id, []):
                    reasons[s.id].append(why)

        add(self.by_phone.get(phone or "", []), "même téléphone")
        add(self.by_email.get(email, []) if email else [], "même e-mail")
        for word in name_key(name):
            add((s for s in self.by_word.get(word, []) if close_names(name, s.name)), "nom proche")
        return [Likely(found[sid], ", ".join(why)) for sid, why in reasons.items()]
