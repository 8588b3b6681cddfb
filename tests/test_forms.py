"""Reading HTML forms the same way on every page (``core.web.forms``)."""

from __future__ import annotations

from core.refusals import invalid
from core.web.forms import errors_of, many, one, rows


def test_one_takes_the_last_value_stripped_with_unix_line_ends() -> None:
    assert one({"note": ["avant", "  Ligne 1\r\nLigne 2  "]}, "note") == "Ligne 1\nLigne 2"
    assert one({}, "note", "défaut") == "défaut"


def test_many_keeps_the_non_blank_values_in_order() -> None:
    assert many({"themes": ["logement", " ", "emploi "]}, "themes") == ["logement", "emploi"]
    assert many({"themes": "logement"}, "themes") == ["logement"]


def test_rows_read_a_table_of_inputs_line_by_line_even_with_blank_cells() -> None:
    """A questionnaire's rows: a blank "key" in row 1 must not shift row 2's key up to row 1."""
    data = {"label": ["Accueil", "Délais", "Suites"], "kind": ["scale", "text"], "key": ["", "delais", "suites"]}
    assert rows(data, "label", "kind", "key") == [
        {"label": "Accueil", "kind": "scale", "key": ""},
        {"label": "Délais", "kind": "text", "key": "delais"},
        {"label": "Suites", "kind": "", "key": "suites"},
    ]
    assert rows({"label": "Seule"}, "label", "kind") == [{"label": "Seule", "kind": ""}]


def test_a_refusal_names_its_input_on_the_api_and_leaves_the_label_to_the_page_beside_it() -> None:
    dated = invalid("indiquez une date (par exemple 15/03/2010).", "on", label="Date de signature")
    assert str(dated) == dated.detail == "Date de signature : indiquez une date (par exemple 15/03/2010)."
    assert errors_of(dated) == {"on": "Indiquez une date (par exemple 15/03/2010)."}
    # A colon in a sentence is not a label: the whole reason stays beside the field.
    ended = invalid("Ce contact est déjà terminé : pour changer sa date de fin, corrigez-le.", "until")
    assert errors_of(ended) == {"until": "Ce contact est déjà terminé : pour changer sa date de fin, corrigez-le."}
    assert errors_of(invalid("Choisissez une date.", label="Date")) == {"_form": "Date : Choisissez une date."}
