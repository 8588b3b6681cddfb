"""Text as people type it, compared as they mean it: one folding for search, sorting and matching.

"Épernon", "EPERNON" and "epernon" are one word to a person looking for it, "Cœur" is
"coeur", and a French list puts "Épicerie" among the E, not after "Veille" (Python's code
point order). Every plugin compares, searches and sorts through these functions, so that a
search column written by one projection matches the query folded by another module.
Changing :func:`fold` changes stored search columns: bump the versions of the projections
that keep folded text (they rebuild).
"""

from __future__ import annotations

import functools
import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
# The combining-mark blocks that NFKD leaves after Latin, Greek and Cyrillic letters.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=65536)  # communes, publics and kinds repeat across thousands of sheets
def fold(text: str) -> str:
    """Lower case, accents removed, ligatures spelt out: "Cœur Épernon" -> "coeur epernon"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).lower())
    return _COMBINING.sub("", decomposed)


def words(text: str) -> list[str]:
    """The folded words of a text, punctuation dropped: "E-mail générique" -> ["e", "mail", "generique"]."""
    return _WORD.findall(fold(text))


def collation_key(text: str) -> tuple[str, str]:
    """French alphabetical order: the folded letters first, then the exact text to break ties."""
    return fold(text).strip(), text
