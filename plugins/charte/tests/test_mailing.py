"""The mailing list « a charter's signatories » (issue 16): a message to it goes to the structures
whose signature is in force, at their generic address; not to the carrier that did not sign, nor
to a structure that withdrew."""

from __future__ import annotations

from core import mailings
from core.application import Trame
from core.store import SYSTEM
from plugins.charte import links
from plugins.charte.service import charters
from plugins.charte.tests import helpers as h


def test_the_list_holds_the_current_signatories_addresses(trame: Trame) -> None:
    h.territory(trame)
    s = {
        key: links.create_structure(trame, "joigny", author=SYSTEM, name=name, email=f"contact@{key}.example", effective="2009-01-01")
        for key, name in (("ccas", "CCAS de Joigny"), ("ml", "Mission locale de Joigny"), ("clic", "CLIC de Joigny"), ("udaf", "Udaf"))
    }
    cid = h.charter(trame, s)
    svc = charters(trame)
    signed = {
        key: svc.sign("joigny", cid, author=SYSTEM, structure_id=s[key], signatory_name="A B", signatory_role="directrice", signed_on=on)
        for key, on in (("ml", "2010-03-12"), ("clic", "2010-05-14"), ("udaf", "2010-03-12"))
    }
    svc.withdraw("joigny", cid, signed["udaf"], author=SYSTEM, on="2011-06-10")

    (listed,) = [ml for ml in mailings.lists(trame, "joigny") if ml.key.startswith("charte.")]
    assert listed.label == "Signataires de la charte « Charte des rencontres partenariales »" and listed.group == "Charte"
    assert sorted(mailings.addresses(trame, "joigny", listed.key)) == ["contact@clic.example", "contact@ml.example"]
