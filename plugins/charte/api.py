"""JSON API of the charter: charters, versions, signatures, withdrawals, polls, participation, reports."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.exceptions import PermissionDeniedException

from core import clock
from core.application import Trame
from core.refusals import absent
from core.web.access import Access, access_of, author_of
from core.web.hygiene import Day, DayQuery
from plugins.charte.service import GRID, charters, day

BASE = "/api/v1/territories/{slug:str}/charte"
TAGS = ["charte"]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]


class CharterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    preamble: Text = ""
    commitments: list[Annotated[str, msgspec.Meta(max_length=2000)]]
    carrier_structure_id: str
    form: Literal["initiative", "palliatif", "impose"]


class VersionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    preamble: Text = ""
    commitments: list[Annotated[str, msgspec.Meta(max_length=2000)]]


class AdoptIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    adopted_on: Day


class StatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: Literal["active", "suspended", "ended"]
    on: Day
    reason: Short | None = None


class CharterOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    form: str
    form_label: str
    carrier_structure_id: str
    status: str
    status_label: str
    status_on: str | None
    status_reason: str | None
    latest_version: int
    adopted_version: int | None
    adopted_on: str | None


class VersionOut(msgspec.Struct, kw_only=True):
    version_no: int
    title: str
    preamble: str
    commitments: list[str]
    adopted_on: str | None
    recorded_at: str


class SignatureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    signatory_name: Short
    signatory_role: Short
    signed_on: Day
    version_no: int | None = None  # default: the version in force
    adaptation: Text | None = None
    document_ref: Short | None = None  # required when the coordination records a paper copy


class WithdrawalIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    withdrawn_on: Day
    reason: Short | None = None


class SignatureOut(msgspec.Struct, kw_only=True):
    id: str
    structure_id: str
    structure_name: str
    version_no: int
    signatory_name: str | None  # None once erased
    signatory_role: str
    signed_on: str
    ended_on: str | None
    end_kind: str | None
    end_reason: str | None
    adaptation: str | None
    channel: str
    document_ref: str | None


class PollIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    question: Short = ""
    slots: Annotated[list[tuple[int, str, str]], msgspec.Meta(min_length=2, max_length=30)]  # (weekday 0=lundi, start, end)


class VoteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    slot_ids: list[str]


class AdoptSlotIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slot_id: str | None = None


class PollOut(msgspec.Struct, kw_only=True):
    id: str
    charter_id: str
    question: str
    status: str
    slots: list[dict[str, Any]]
    tally: dict[str, int]
    leaders: list[str]
    majority: str | None
    adopted_slot_id: str | None
    voters: list[dict[str, Any]]


class ReportIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    what_works: Text = ""
    obstacles: Text = ""
    steering: Text = ""
    communication: Text = ""
    public_feedback: Text = ""
    evolution: Text = ""


def _charter_out(c: dict[str, Any]) -> CharterOut:
    return CharterOut(
        id=c["charter_id"],
        title=c["title"],
        form=c["form"],
        form_label=c["form_label"],
        carrier_structure_id=c["carrier_structure_id"],
        status=c["status"],
        status_label=c["status_label"],
        status_on=c["status_on"],
        status_reason=c["status_reason"],
        latest_version=c["latest_version"],
        adopted_version=c["adopted_version"],
        adopted_on=c["adopted_on"],
    )


def _signature_out(s: dict[str, Any]) -> SignatureOut:
    return SignatureOut(
        id=s["signature_id"],
        structure_id=s["structure_id"],
        structure_name=s.get("structure_name", ""),
        version_no=s["version_no"],
        signatory_name=s["signatory_name"],
        signatory_role=s["signatory_role"],
        signed_on=s["signed_on"],
        ended_on=None if s["open"] else s["ended_on"],
        end_kind=s["end_kind"],
        end_reason=s["end_reason"],
        adaptation=s["adaptation"],
        channel=s["channel"],
        document_ref=s["document_ref"],
    )


def _poll_out(p: dict[str, Any]) -> PollOut:
    return PollOut(
        id=p["poll_id"],
        charter_id=p["charter_id"],
        question=p["question"],
        status=p["status"],
        slots=[{**s, "label": p["slot_labels"][s["slot_id"]]} for s in p["slots"]],
        tally=p["tally"],
        leaders=p["leaders"],
        majority=p["majority"],
        adopted_slot_id=p["adopted_slot_id"],
        voters=p["voters"],
    )


def check_signer(access: Access, structure_id: str, document_ref: str | None) -> str:
    """A referent signs only for their own structure (403 otherwise); the coordination records paper copies."""
    if access.at_least("coordinator"):
        return "papier" if (document_ref or "").strip() or access.structure_id != structure_id else "referent"
    if not access.may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez signer la charte que pour votre propre structure.")
    return "referent"


def check_voter(access: Access, structure_id: str) -> None:
    if not access.may_edit_structure(structure_id):
        raise PermissionDeniedException("Vous ne pouvez voter que pour votre propre structure.")


@get(f"{BASE}/charters", tags=TAGS, sync_to_thread=False)
def list_charters(trame: Trame, slug: str) -> list[CharterOut]:
    return [_charter_out(c) for c in charters(trame).all(slug)]


@post(f"{BASE}/charters", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def draft_charter(request: Request[Any, Any, Any], trame: Trame, slug: str, data: CharterIn) -> CharterOut:
    """Draft a charter: its first version, to be adopted at a date."""
    svc = charters(trame)
    cid = svc.draft(
        slug,
        author=author_of(request),
        title=data.title,
        preamble=data.preamble,
        commitments=data.commitments,
        carrier_structure_id=data.carrier_structure_id,
        form=data.form,
    )
    return _charter_out(svc.get(slug, cid))


@get(f"{BASE}/charters/{{charter_id:str}}", tags=TAGS, sync_to_thread=False)
def get_charter(trame: Trame, slug: str, charter_id: str) -> CharterOut:
    return _charter_out(charters(trame).get(slug, charter_id))


@post(f"{BASE}/charters/{{charter_id:str}}/status", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def change_status(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, data: StatusIn) -> CharterOut:
    """Suspend, end (with the reason) or put back in force; an ended charter stays readable."""
    svc = charters(trame)
    svc.set_status(slug, charter_id, data.status, author=author_of(request), on=data.on, reason=data.reason)
    return _charter_out(svc.get(slug, charter_id))


@get(f"{BASE}/charters/{{charter_id:str}}/versions", tags=TAGS, sync_to_thread=False)
def list_versions(trame: Trame, slug: str, charter_id: str) -> list[VersionOut]:
    return [msgspec.convert(v, VersionOut) for v in _versions(trame, slug, charter_id)]


def _versions(trame: Trame, slug: str, charter_id: str) -> list[dict[str, Any]]:
    return [{k: v[k] for k in VersionOut.__struct_fields__} for v in charters(trame).versions(slug, charter_id)]


@get(f"{BASE}/charters/{{charter_id:str}}/versions/{{version_no:int}}", tags=TAGS, sync_to_thread=False)
def get_version(trame: Trame, slug: str, charter_id: str, version_no: int) -> VersionOut:
    return _version_out(trame, slug, charter_id, version_no)


def _version_out(trame: Trame, slug: str, charter_id: str, version_no: int) -> VersionOut:
    found = next((v for v in _versions(trame, slug, charter_id) if v["version_no"] == version_no), None)
    if found is None:
        raise absent(f"La version {version_no} de cette charte n'existe pas.")
    return msgspec.convert(found, VersionOut)


@post(f"{BASE}/charters/{{charter_id:str}}/versions", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def revise_charter(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, data: VersionIn) -> VersionOut:
    """A new text makes a new version; earlier versions stay readable."""
    no = charters(trame).revise(
        slug, charter_id, author=author_of(request), title=data.title, preamble=data.preamble, commitments=data.commitments
    )
    return _version_out(trame, slug, charter_id, no)


@post(
    f"{BASE}/charters/{{charter_id:str}}/versions/{{version_no:int}}/adoption",
    opt={"role": "coordinator"},
    tags=TAGS,
    status_code=200,
    sync_to_thread=True,
)
def adopt_version(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, version_no: int, data: AdoptIn) -> CharterOut:
    svc = charters(trame)
    svc.adopt(slug, charter_id, version_no, author=author_of(request), on=data.adopted_on)
    return _charter_out(svc.get(slug, charter_id))


@get(f"{BASE}/charters/{{charter_id:str}}/signatures", tags=TAGS, sync_to_thread=False)
def list_signatures(
    trame: Trame, slug: str, charter_id: str, as_of: DayQuery = None, known_at: DayQuery = None, history: bool = False
) -> list[SignatureOut]:
    """Signatories at ``as_of`` (YYYY-MM-DD, default today) as known at ``known_at``; ``history=true``: every signature ever."""
    svc = charters(trame)
    svc.get(slug, charter_id)
    if history:
        return [_signature_out(s) for s in svc.signatures(slug, charter_id)]
    on = day(as_of, "as_of", required=False) or clock.paris_today()
    known = clock.parse(known_at) if known_at else None
    return [_signature_out(s) for s in svc.signatories(slug, charter_id, on, known)]


@post(f"{BASE}/charters/{{charter_id:str}}/signatures", opt={"role": "referent"}, tags=TAGS, sync_to_thread=True)
def sign_charter(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, data: SignatureIn) -> SignatureOut:
    """A referent signs for their own structure (403 for another one); the coordination records a paper copy
    (``document_ref``). Signing a newer version supersedes the structure's earlier signature."""
    channel = check_signer(access_of(request), data.structure_id, data.document_ref)
    svc = charters(trame)
    sid = svc.sign(
        slug,
        charter_id,
        author=author_of(request),
        structure_id=data.structure_id,
        signatory_name=data.signatory_name,
        signatory_role=data.signatory_role,
        signed_on=data.signed_on,
        version_no=data.version_no,
        adaptation=data.adaptation,
        channel=channel,
        document_ref=data.document_ref,
    )
    found = svc.signature(slug, charter_id, sid)
    return _signature_out({**found, "structure_name": ""})


@post(
    f"{BASE}/charters/{{charter_id:str}}/signatures/{{signature_id:str}}/withdrawal",
    opt={"role": "referent"},
    tags=TAGS,
    status_code=200,
    sync_to_thread=True,
)
def withdraw_signature(
    request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, signature_id: str, data: WithdrawalIn
) -> SignatureOut:
    svc = charters(trame)
    s = svc.signature(slug, charter_id, signature_id)
    if not access_of(request).may_edit_structure(s["structure_id"]):
        raise PermissionDeniedException("Seule la structure signataire ou la coordination peut retirer cette signature.")
    svc.withdraw(slug, charter_id, signature_id, author=author_of(request), on=data.withdrawn_on, reason=data.reason)
    found = svc.signature(slug, charter_id, signature_id)
    return _signature_out({**found, "structure_name": ""})


@post(f"{BASE}/charters/{{charter_id:str}}/polls", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def open_poll(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, data: PollIn) -> PollOut:
    """A date poll among partners: each structure ticks the slots it can make."""
    svc = charters(trame)
    pid = svc.open_poll(slug, charter_id, author=author_of(request), question=data.question, slots=list(data.slots))
    return _poll_out(charters(trame).poll(slug, pid))


@get(f"{BASE}/polls/{{poll_id:str}}", tags=TAGS, sync_to_thread=False)
def get_poll(trame: Trame, slug: str, poll_id: str) -> PollOut:
    return _poll_out(charters(trame).poll(slug, poll_id))


@post(f"{BASE}/polls/{{poll_id:str}}/votes", opt={"role": "referent"}, tags=TAGS, status_code=200, sync_to_thread=True)
def vote(request: Request[Any, Any, Any], trame: Trame, slug: str, poll_id: str, data: VoteIn) -> PollOut:
    """A structure's vote (a later one replaces it) until the slot is adopted."""
    check_voter(access_of(request), data.structure_id)
    charters(trame).vote(slug, poll_id, author=author_of(request), structure_id=data.structure_id, slot_ids=data.slot_ids)
    return _poll_out(charters(trame).poll(slug, poll_id))


@post(f"{BASE}/polls/{{poll_id:str}}/adoption", opt={"role": "coordinator"}, tags=TAGS, status_code=200, sync_to_thread=True)
def adopt_slot(request: Request[Any, Any, Any], trame: Trame, slug: str, poll_id: str, data: AdoptSlotIn) -> PollOut:
    """Adopt the majority slot (on a tie, name one of the leading slots)."""
    charters(trame).adopt_poll(slug, poll_id, author=author_of(request), slot_id=data.slot_id)
    return _poll_out(charters(trame).poll(slug, poll_id))


@get(f"{BASE}/charters/{{charter_id:str}}/participation", tags=TAGS, sync_to_thread=True)
def participation(trame: Trame, slug: str, charter_id: str, since: str, until: str) -> dict[str, Any]:
    p = charters(trame).participation(slug, charter_id, day(since, "since") or "", day(until, "until") or "")
    return {
        "since": p.since,
        "until": p.until,
        "rate": p.rate,
        "meetings": [{**asdict(m), "rate": m.rate} for m in p.meetings],
        "partners": [{**asdict(x), "rate": x.rate} for x in p.partners],
        "signatories_never_came": p.never_came,
        "invited_not_signed": p.invited_not_signed,
    }


@get(f"{BASE}/charters/{{charter_id:str}}/reports/{{year:int}}", tags=TAGS, sync_to_thread=True)
def get_report(trame: Trame, slug: str, charter_id: str, year: int) -> dict[str, Any]:
    """The yearly evaluation: figures from the data, the seed 002 grid written by the coordination."""
    return _report(trame, slug, charter_id, year)


def _report(trame: Trame, slug: str, charter_id: str, year: int) -> dict[str, Any]:
    r = charters(trame).evaluation(slug, charter_id, year)
    p = r["participation"]
    return {
        "year": year,
        "figures": {
            "meetings": len(p.meetings),
            "participation_rate": p.rate,
            "signatories_on_1_january": len(r["signatories_start"]),
            "signatories_on_31_december": len(r["signatories_end"]),
            "signed_in_year": len(r["signed_in_year"]),
            "withdrawn_in_year": len(r["withdrawn_in_year"]),
            "signatories_never_came": p.never_came,
            "invited_not_signed": p.invited_not_signed,
        },
        "grid": [{"key": k, "heading": h, "text": r["texts"][k]} for k, h in GRID.items()],
    }


@put(f"{BASE}/charters/{{charter_id:str}}/reports/{{year:int}}", opt={"role": "coordinator"}, tags=TAGS, sync_to_thread=True)
def write_report(request: Request[Any, Any, Any], trame: Trame, slug: str, charter_id: str, year: int, data: ReportIn) -> dict[str, Any]:
    charters(trame).write_evaluation(slug, charter_id, year, author=author_of(request), texts=msgspec.structs.asdict(data))
    return _report(trame, slug, charter_id, year)


ROUTES = [
    list_charters,
    draft_charter,
    get_charter,
    change_status,
    list_versions,
    get_version,
    revise_charter,
    adopt_version,
    list_signatures,
    sign_charter,
    withdraw_signature,
    open_poll,
    get_poll,
    vote,
    adopt_slot,
    participation,
    get_report,
    write_report,
]
