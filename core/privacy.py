"""Shared secrecy (« secret partagé »): warn before free text that seems to name a person is saved.

Minutes, round tables and comments are about structures and schemes, never about the people
the network helps. Trame cannot know who is who, so it looks for what usually names someone:
a civility followed by a name (« Mme Leroy », « M. Dupont »), or a common first name followed
by a surname (« Paul Ferrand ») that the directory does not know (its contacts are
professionals and its structures may bear a person's name, « Collège Marie Curie »). A form
shows the warning with the reasons, and saves only once the author confirms (:data:`CONFIRM`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: The checkbox a form adds to its second submit: « je confirme : personne d'accompagné n'est nommé ».
CONFIRM = "confirmer_noms"

#: Usual first names in France (INSEE's most given, of several generations and origins).
_FIRST_NAMES = """
    adam adele adrien agathe agnes ahmed aicha alain alexandre alexis alice aline amandine amelie amina anais andre
    andrea angelique anne annie antoine anthony arnaud arthur audrey aurelie aurelien axel aya bastien beatrice benjamin
    benoit bernard bertrand brigitte bruno camille carole caroline catherine cecile celine chantal charles charlotte chloe
    christian christiane christine christophe claire claude clement clementine colette corinne cyril damien daniel
    danielle david delphine denis denise didier dominique dylan elisa elise elodie eloise emilie emma emmanuel enzo eric
    estelle ethan etienne eva fabien fabienne fabrice farid fatima fatou florence florian francis francoise franck
    francois frederic gabriel gaelle gerard gilbert gilles ginette guillaume guy hakim hamid helene henri hugo ines
    irene isabelle jacqueline jacques jade jean jeanne jeremy jerome joel johan jonathan jordan joseph josiane julie
    julien juliette justine karima karim kevin khadija laetitia laura laure laurence laurent lea leila lena leo leon
    lina lisa louis louise luc lucas lucie lucien lydie madeleine maelle malika manon marc marcel margaux marguerite
    maria marie marine marion martine mathieu mathilde matteo maxime melanie michel michele mickael mohamed monique
    morgane myriam nabil nadia nadine natacha nathalie nathan nicolas nicole noah noemie oceane odile olivier omar
    pascal pascale patrice patricia patrick paul pauline philippe pierre quentin rachid rachel raphael raymond remi
    renee richard robert romain rose sabrina sacha salome samia samir samuel sandrine sarah sebastien serge severine
    simone sofia sophie stephane stephanie suzanne sylvain sylvie theo thierry thomas timothee tom valentin valerie
    vanessa veronique victor vincent virginie xavier yacine yann yannick yasmine yves yvette yvonne zoe
"""
FIRST_NAMES = frozenset(_FIRST_NAMES.split())

_CIVILITY = r"(?:Mmes?|Madame|Mesdames|Mlle|Mademoiselle|M\.|MM\.|Monsieur|Messieurs)"
_NAME = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:[-'’][A-ZÀ-ÖØ-Þa-zà-öø-ÿ][a-zà-öø-ÿ]+)*|[A-ZÀ-ÖØ-Þ]{2,}"
_CIVILITY_NAME = re.compile(rf"(?<![\w.]){_CIVILITY}\s+((?:{_NAME})(?:\s+(?:{_NAME}))?)")
_TWO_NAMES = re.compile(rf"(?<![\w-])(?=({_NAME})(\s+)({_NAME})(?![\w-]))")  # a lookahead: overlapping pairs


@dataclass(frozen=True)
class Mention:
    """Words that look like a person's name, and why, in French."""

    words: str
    why: str


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", _fold(text))


def _known(words: list[str], known: list[list[str]]) -> bool:
    """The words appear, in order and together, in one name the directory knows."""
    n = len(words)
    return any(words == name[i : i + n] for name in known for i in range(len(name) - n + 1))


def mentions(texts: Iterable[str | None], known_names: Iterable[str] = ()) -> list[Mention]:
    """What in ``texts`` looks like it names a person, once each, in order of appearance.
    ``known_names``: the directory's structures and contacts, whose names are not flagged."""
    known = [_words(n) for n in known_names if n]
    found: dict[str, Mention] = {}
    for text in texts:
        if not text:
            continue
        for match in _CIVILITY_NAME.finditer(text):
            if not _known(_words(match.group(1)), known):
                words = match.group(0)
                found.setdefault(_fold(words), Mention(words, f"« {words} » : une civilité suivie d'un nom désigne une personne."))
        for match in _TWO_NAMES.finditer(text):
            first, space, last = match.groups()
            if _fold(first).split("-")[0] not in FIRST_NAMES or (_fold(last) in FIRST_NAMES and not last.isupper()):
                continue  # not a first name, or two first names (« Marie Claire »)
            words = first + space + last
            if not _known(_words(words), known):
                found.setdefault(
                    _fold(words), Mention(words, f"« {words} » : un prénom suivi d'un nom qui n'est pas celui d'un contact de l'annuaire.")
                )
    return list(found.values())


def unconfirmed(texts: Iterable[str | None], known_names: Iterable[str], confirmed: bool) -> list[Mention]:
    """What a form must warn about before saving: nothing once its author ticked :data:`CONFIRM`."""
    return [] if confirmed else mentions(texts, known_names)
