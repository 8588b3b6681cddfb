"""Input no person types: control characters in text, and paging bounds. One place for every route.

A NUL byte or another C0 control character (tab, line feed and carriage return excepted) in
a field is refused with a French message before any handler runs: the middleware reads the
query string, JSON bodies and form bodies (the decoded strings, so ``\\u0000`` in JSON and
``%00`` in a form are caught too). Such characters would truncate a value in C libraries,
break CSV, vCard and iCalendar files, and hide text from a reader. Files sent as a body
(CSV, data·inclusion imports) are read by their own importers.

The OpenAPI document says the same (:func:`document`, :class:`StructSchema`), and a JSON body is
checked with strict types (:func:`strict_bodies`: ``0`` is not ``false``), so that what the schema
allows is what the server accepts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.enums import ScopeType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Reference
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import Parameter
from litestar.types import ASGIApp, Receive, Scope, Send

from core.refusals import invalid
from core.web.bodies import read_body
from core.web.errors import french

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_BODY = 20 * 1024 * 1024  # a larger text body is left to the handler's own limits
MAX_LIMIT = 200
_MALFORMED = object()

Limit = Annotated[
    int,
    Parameter(
        schema_extra={"minimum": 1},
        description=f"nombre d'éléments par page, {MAX_LIMIT} au plus (une valeur plus grande vaut {MAX_LIMIT})",
    ),
]
# The bounds are documented here and checked by page_bounds, whose message says how to fix them.
Offset = Annotated[int, Parameter(schema_extra={"minimum": 0}, description="nombre d'éléments sautés, positif ou nul")]


# Shapes documented in the OpenAPI schema only (``extra_json_schema``): msgspec does not enforce
# them, the services keep reading what people type (« 15/03/2010 », « 9h »); the schema states the
# form a client should send, so that a request the schema allows is one the server accepts.
_CONTROL_FREE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f"
FILLED_PATTERN = f"^[^{_CONTROL_FREE}]*[^\\s{_CONTROL_FREE}][^{_CONTROL_FREE}]*$"


def schema_only(description: str, **schema: Any) -> msgspec.Meta:
    """A Meta whose constraints are said in the OpenAPI document and checked by the service."""
    return msgspec.Meta(extra_json_schema={"description": description, "extra": schema})


#: A calendar day (the API sends ISO dates; a bare date means that whole day where it is a bound).
Day = Annotated[str, schema_only("date AAAA-MM-JJ", format="date")]
#: A time of day, local to the territory.
Clock = Annotated[str, schema_only("heure HH:MM", pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$")]
#: A text that must say something (not only spaces).
Filled = Annotated[str, schema_only("texte non vide", pattern=FILLED_PATTERN, max_length=300)]
#: A day that may be left empty (``""`` means not given, as in a form).
OptionalDay = Annotated[
    str, schema_only("date AAAA-MM-JJ, ou vide", any_of=[OpenAPISchema(format=OpenAPIFormat.DATE), OpenAPISchema(max_length=0)])
]
#: ``schema_extra`` of a date parameter: a day, or empty (not given).
DAY_OR_EMPTY: dict[str, Any] = {"any_of": [OpenAPISchema(format=OpenAPIFormat.DATE), OpenAPISchema(max_length=0)]}
#: A date query parameter (``as_of``, ``known_at``, ``since``, ``until``); empty means not given.
DayQuery = Annotated[
    str | None,
    Parameter(
        required=False,
        schema_extra=DAY_OR_EMPTY,
        description="date AAAA-MM-JJ (vide : non précisée)",
    ),
]


def day_param(name: str, value: str | None) -> str | None:
    """A :data:`DayQuery` read as an ISO day (``AAAA-MM-JJ``; ``JJ/MM/AAAA`` too); empty is None, anything else a French 400."""
    if value is None or not value.strip():
        return None
    from core.clock import BadInstant, parse_day

    try:
        return parse_day(value).isoformat()
    except BadInstant as exc:
        raise invalid(str(exc), name, label=f"Paramètre {name}") from None


def one_of(*values: str, description: str = "") -> msgspec.Meta:
    """Values a text field takes, said in the schema (the service names them when refusing another)."""
    return schema_only(description or "une valeur parmi : " + ", ".join(values), enum=list(values))


def refusal(field: str | None) -> str:
    where = f"Le champ « {field} »" if field else "Le texte envoyé"
    return (
        f"{where} contient un caractère de contrôle invisible (octet nul ou semblable), souvent venu d'un copier-coller : "
        "retirez-le et réessayez."
    )


def find_control(value: Any, path: str = "") -> str | None:
    """The path of the first string holding a control character in a decoded JSON value, or None."""
    if isinstance(value, str):
        return path or "" if CONTROL.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and CONTROL.search(key):
                return key
            found = find_control(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = find_control(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def check_text(field: str, value: str) -> None:
    """Raise the French 400 if ``value`` holds a control character."""
    if CONTROL.search(value):
        raise invalid(refusal(field), field)


def _check_pairs(raw: str) -> None:
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if CONTROL.search(key):
            raise invalid(refusal(None))
        check_text(key, value)


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """``limit`` capped at :data:`MAX_LIMIT`; a negative ``offset`` or a ``limit`` under 1 is a French 400."""
    if offset < 0:
        raise invalid("« offset » doit être positif ou nul (0 pour la première page).", "offset")
    if limit < 1:
        raise invalid(f"« limit » doit être compris entre 1 et {MAX_LIMIT}.", "limit")
    return min(limit, MAX_LIMIT), offset


class ControlCharacters:
    """ASGI middleware (inside the app's error handler: its refusal is the usual French page or JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        _check_pairs(scope.get("query_string", b"").decode("latin-1"))
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind not in (b"application/json", b"application/x-www-form-urlencoded"):
            await self.app(scope, receive, send)
            return
        body, replayed = await read_body(receive)
        if len(body) <= MAX_BODY:
            self._check_body(kind, body)
        await self.app(scope, replayed, send)

    @staticmethod
    def _check_body(kind: bytes, body: bytes) -> Any:
        """The decoded JSON body (``_MALFORMED`` if it is not JSON: the handler says so)."""
        if kind == b"application/x-www-form-urlencoded":
            _check_pairs(body.decode("utf-8", "replace"))
            return _MALFORMED
        try:
            value = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return _MALFORMED
        found = find_control(value)
        if found is not None:
            raise invalid(refusal(found or None), found or None)
        return value


def _body_type(handler: Any) -> Any:
    """The type of a handler's ``data`` (JSON body), or None."""
    signature = getattr(handler, "parsed_fn_signature", None)
    parameter = signature.parameters.get("data") if signature is not None else None
    return None if parameter is None else parameter.annotation


async def strict_bodies(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the app: a JSON body is checked with strict types before the handler
    converts it leniently (inside the handler's error handling, so that an Idempotency-Key replays
    the refusal like any other answer)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return
    if _body_type(request.route_handler) is None:
        return
    try:
        value = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return  # malformed JSON: the handler says so
    check_types(request.route_handler, value)


def check_types(handler: Any, value: Any) -> None:
    """Litestar converts a JSON body leniently (``0`` becomes ``false``, ``"12"`` becomes ``12``);
    the API's schema says boolean or integer, so a body of another JSON type is a French 400."""
    kind = _body_type(handler)
    if kind is None or value is None:
        return
    try:
        msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise invalid("Données invalides — " + french(str(exc))) from None
    except TypeError:  # a type msgspec cannot convert to (a dict of uploads...): Litestar's own checks apply
        return


#: What the middleware lets through, as JSON Schema: a string without C0 control characters
#: (tab, line feed and carriage return allowed), for every string the API reads.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


#: Any JSON value whose strings and keys hold no control character (what the middleware lets
#: through in fields a handler ignores), as a recursive component.
FREE_VALUE = "ValeurLibre"


class StructSchema(StructSchemaPlugin):
    """Litestar's schema of a msgspec Struct, plus what it leaves unsaid: a Struct that forbids
    unknown fields says ``additionalProperties: false`` (msgspec refuses them: 400), and any other
    accepts extra members that it ignores, provided they hold no control character."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> OpenAPISchema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        forbid = isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields
        schema.additional_properties = False if forbid else Reference(ref=f"#/components/schemas/{FREE_VALUE}")
        if not forbid:
            schema.property_names = OpenAPISchema(pattern=TEXT_PATTERN)
        return schema


def _free_value() -> OpenAPISchema:
    own = Reference(ref=f"#/components/schemas/{FREE_VALUE}")
    return OpenAPISchema(
        any_of=[
            OpenAPISchema(type=OpenAPIType.STRING, pattern=TEXT_PATTERN),
            OpenAPISchema(type=OpenAPIType.NUMBER),
            OpenAPISchema(type=OpenAPIType.BOOLEAN),
            OpenAPISchema(type=OpenAPIType.NULL),
            OpenAPISchema(type=OpenAPIType.ARRAY, items=own),
            OpenAPISchema(type=OpenAPIType.OBJECT, property_names=OpenAPISchema(pattern=TEXT_PATTERN), additional_properties=own),
        ],
        description="Valeur JSON quelconque sans caractère de contrôle (ignorée par le serveur).",
    )


def document(schema: Any) -> None:
    """Say in the OpenAPI document what :class:`ControlCharacters` refuses: every string of a
    query, header or JSON body (and every key of a free-form object) matches :data:`TEXT_PATTERN`.
    Strings that already have a pattern, a format or an enum are narrower and left as they are."""
    from litestar.openapi.spec import Schema

    if schema.components is not None:
        schema.components.schemas = {**(schema.components.schemas or {}), FREE_VALUE: _free_value()}
    components = dict(getattr(schema.components, "schemas", None) or {})
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if node is None or isinstance(node, dict | bool) or id(node) in seen:
            return
        seen.add(id(node))
        ref = getattr(node, "ref", None)
        if isinstance(ref, str):
            visit(components.get(ref.rsplit("/", 1)[-1]))
            return
        kind = getattr(node, "type", None)
        kinds = set(kind) if isinstance(kind, list | tuple) else {kind}
        if any(getattr(k, "value", k) == "string" for k in kinds) and not (node.pattern or node.format or node.enum or node.const):
            node.pattern = TEXT_PATTERN
        extra = node.additional_properties
        if extra is not None and extra is not False and not (isinstance(extra, Reference) and extra.ref.endswith(FREE_VALUE)):
            node.property_names = Schema(pattern=TEXT_PATTERN)
            if extra is not True:
                visit(extra)
        for child in [*(node.properties or {}).values(), *(node.one_of or []), *(node.any_of or []), *(node.all_of or [])]:
            visit(child)
        items = node.items
        for child in items if isinstance(items, list | tuple) else [items]:
            visit(child)

    for item in (schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            for parameter in operation.parameters or []:
                if str(getattr(parameter.param_in, "value", parameter.param_in)) in ("query", "header"):
                    visit(parameter.schema)
            body = operation.request_body
            for media_type, content in (getattr(body, "content", None) or {}).items():
                if media_type == "application/json":
                    visit(content.schema)
