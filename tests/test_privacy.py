"""Shared secrecy: what the free-text check flags, and what it leaves alone."""

from __future__ import annotations

from core.privacy import mentions, unconfirmed


def _words(text: str, known: tuple[str, ...] = ()) -> list[str]:
    return [m.words for m in mentions([text], known)]


def test_a_civility_or_a_first_name_with_a_surname_is_flagged_with_its_reason() -> None:
    found = mentions(["Mme Leroy a rencontré M. Dupont ; Jean-Pierre MARTIN rappellera."])
    assert [m.words for m in found] == ["Mme Leroy", "M. Dupont", "Jean-Pierre MARTIN"]
    assert found[0].why == "« Mme Leroy » : une civilité suivie d'un nom désigne une personne."
    assert _words("Réunion avec Paul Ferrand hier") == ["Paul Ferrand"]  # not hidden by the word before it


def test_structures_contacts_of_the_directory_and_anonymous_text_are_not_flagged() -> None:
    known = ("Sophie Durand", "Collège Marie Curie")
    assert _words("Sophie Durand (CAF) présente le RSA à M. Durand", known) == []
    assert _words("Le Collège Marie Curie accueille la Mission locale et France Travail", known) == []
    assert _words("Une famille du quartier ; un jeune de 19 ans ; Marie Claire viendra") == []


def test_a_confirmed_form_is_not_warned_again() -> None:
    assert unconfirmed(["Mme Leroy"], [], confirmed=True) == []
    assert [m.words for m in unconfirmed(["Mme Leroy"], [], confirmed=False)] == ["Mme Leroy"]
