"""The national data·inclusion v1 referential, as Trame uses it: codes and French labels.

The codes and labels are read from ``datainclusion_v1.json``, a copy of the enums of the
official ``data-inclusion-schema`` package (a test checks they are identical to the package),
so that Trame runs without the package and its pydantic stack. What v1 has no code for and
Trame needs (a service delivered at the person's home) is Trame's own, and goes to the
export's ``_trame`` extension.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_DATA = json.loads((Path(__file__).parent / "datainclusion_v1.json").read_text(encoding="utf-8"))

VERSION: str = _DATA["version"]
THEMATIQUES: dict[str, str] = _DATA["thematiques"]  # "logement-hebergement--louer-un-logement" -> "Louer un logement"
CATEGORIES: dict[str, str] = _DATA["categories"]  # "logement-hebergement" -> "Logement et hébergement"
PUBLICS: dict[str, str] = _DATA["publics"]
TYPES: dict[str, str] = _DATA["types_de_services"]
FRAIS: dict[str, str] = _DATA["frais"]
MODES_ACCUEIL: dict[str, str] = _DATA["modes_accueil"]
MODES_MOBILISATION: dict[str, str] = _DATA["modes_mobilisation"]
MOBILISABLE_PAR: dict[str, str] = _DATA["personnes_mobilisatrices"]
RESEAUX_PORTEURS: dict[str, str] = _DATA["reseaux_porteurs"]

#: How a service is reached: v1's two modes, and Trame's own "at home" (no v1 code).
AT_HOME = "a-domicile"
RECEPTION: dict[str, str] = {**MODES_ACCUEIL, AT_HOME: "À domicile"}
TOUS_PUBLICS = "tous-publics"


def category_of(thematique: str) -> str:
    """The category of a theme code: "logement-hebergement--louer-un-logement" -> "logement-hebergement"."""
    return thematique.split("--", 1)[0]


def theme_label(code: str) -> str:
    """« Logement et hébergement › Louer un logement » for a theme, its label for a category."""
    if code in CATEGORIES:
        return CATEGORIES[code]
    label = THEMATIQUES.get(code)
    if label is None:
        return code
    return f"{CATEGORIES.get(category_of(code), category_of(code))} › {label}"


@dataclass(frozen=True)
class ThemeGroup:
    code: str
    label: str
    themes: list[tuple[str, str]]  # (code, label) of the themes of the category


def theme_groups() -> list[ThemeGroup]:
    """The themes by category, for the forms' grouped choices (in the referential's order)."""
    groups = {code: ThemeGroup(code, label, []) for code, label in CATEGORIES.items()}
    for code, label in THEMATIQUES.items():
        group = groups.get(category_of(code))
        if group is not None:
            group.themes.append((code, label))
    return [g for g in groups.values() if g.themes]


# -- opening hours: the directory's French text <-> OpenStreetMap "opening_hours" (v1) -------------
_DAYS = {"lundi": "Mo", "mardi": "Tu", "mercredi": "We", "jeudi": "Th", "vendredi": "Fr", "samedi": "Sa", "dimanche": "Su"}
_ORDER = list(_DAYS)
_FR = {v: k for k, v in _DAYS.items()}
_TIME = r"(\d{1,2}) ?h ?(\d{2})?"
_RANGE = re.compile(rf"{_TIME} ?[–-] ?{_TIME}")


def _days(text: str) -> list[str] | None:
    text = text.strip().lower()
    span = re.fullmatch(r"du (\w+) au (\w+)", text)
    if span and span[1] in _DAYS and span[2] in _DAYS:
        first, last = _ORDER.index(span[1]), _ORDER.index(span[2])
        return [_DAYS[d] for d in _ORDER[first : last + 1]] if first <= last else None
    words = [w for w in re.split(r",\s*|\s+et\s+", text) if w]
    if words and all(w in _DAYS for w in words):
        return [_DAYS[w] for w in words]
    return None


def _osm_days(days: list[str]) -> str:
    idx = [list(_FR).index(d) for d in days]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{days[0]}-{days[-1]}"
    return ",".join(days)


def to_osm(text: str | None) -> str | None:
    """The OSM form of French hours written as the directory writes them ("Du lundi au vendredi,
    9 h – 12 h et 14 h – 17 h" -> "Mo-Fr 09:00-12:00,14:00-17:00"); None when a part is not of
    that form ("sur rendez-vous"): the French text then stays in the extension."""
    if not text:
        return None
    if re.fullmatch(r"(accueil |permanence )?24 ?h sur 24", text.strip().lower()):
        return "24/7"
    rules = []
    for part in text.split(";"):
        first = _RANGE.search(part)
        if first is None:
            return None
        days_text, times_text = part[: first.start()].strip().rstrip(","), part[first.start() :]
        days = _days(re.sub(r"^(permanence )?(le |les )", "", days_text.strip().lower()))
        ranges = _RANGE.findall(times_text)
        rest = _RANGE.sub("", times_text).replace(" et ", "").replace(",", "").strip()
        if days is None or not ranges or rest:
            return None
        spans = [f"{int(a):02d}:{b or '00'}-{int(c):02d}:{d or '00'}" for a, b, c, d in ranges]
        rules.append(f"{_osm_days(days)} {','.join(spans)}")
    return "; ".join(rules)


def from_osm(text: str | None) -> str | None:
    """French text of the simple OSM hours :func:`to_osm` writes; other OSM text is returned as is."""
    if not text:
        return None
    if text.strip() == "24/7":
        return "Accueil 24 h sur 24"
    parts = []
    for rule in text.split(";"):
        match = re.fullmatch(r"\s*([A-Za-z,\-]+)\s+([\d:,\-]+)\s*", rule)
        if not match:
            return text
        days_text, times = match[1], match[2]
        if re.fullmatch(r"(Mo|Tu|We|Th|Fr|Sa|Su)-(Mo|Tu|We|Th|Fr|Sa|Su)", days_text):
            days = f"du {_FR[days_text[:2]]} au {_FR[days_text[3:]]}"
        elif all(d in _FR for d in days_text.split(",")):
            names = [_FR[d] for d in days_text.split(",")]
            days = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
        else:
            return text
        spans = []
        for span in times.split(","):
            ends = span.split("-")
            if len(ends) != 2 or not all(re.fullmatch(r"\d{2}:\d{2}", e) for e in ends):
                return text
            spans.append(" – ".join(_french_time(e) for e in ends))
        parts.append(f"{days}, {' et '.join(spans)}")
    out = " ; ".join(parts)
    return out[:1].upper() + out[1:]


def _french_time(hhmm: str) -> str:
    h, m = hhmm.split(":")
    return f"{int(h)} h" + (f" {m}" if m != "00" else "")
