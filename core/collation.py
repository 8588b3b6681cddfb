"""French alphabetical order for names shown in lists and menus.

Python sorts by code point, so "Épicerie" lands after "Veille" and "œ" after "z". French
dictionaries order letters first, ignoring accents and case, and only then tell "cote" from
"côte"; ligatures are spelt out ("Cœur" is "coeur").
"""

from __future__ import annotations

import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})


def collation_key(text: str) -> tuple[str, str]:
    """Sort key: the letters without accents or case first, then the exact text to break ties."""
    spelt = text.translate(_LIGATURES)
    plain = "".join(c for c in unicodedata.normalize("NFKD", spelt) if not unicodedata.combining(c))
    return plain.casefold().strip(), text
