"""The JSON API keeps its own contract: what /schema/openapi.json says is what the server does.

schemathesis reads the schema the demo serves, generates requests from it (a fixed seed, a few
per operation) and checks every answer: no 5xx, only documented statuses, content types,
headers and bodies, schema-violating requests refused, undeclared methods answered 405 with a
true ``Allow``. The direct tests below pin the parts a client relies on most.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar.testing import TestClient

from core.application import Trame
from core.demo import build_demo
from core.store import SYSTEM
from core.testing import User, make_user

#: schemathesis settings for the run (written beside its report). Why the two changes to its defaults:
#: 422 is the answer to an Idempotency-Key reused with another body (the generator reuses values), a
#: state of the keys like 409 is of the data; 428 is RFC 6585's answer to a missing If-Match.
CONFIG = """
[parameters]
"path.slug" = "agen"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[checks.missing_required_header]
expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]
"""
#: Business rules the schema cannot state (an end before a start, an unknown weekday, a referent
#: without a structure) are refused with 400 and the field to correct: bad input, though the schema
#: allows it. schemathesis's « schema-valid request rejected » check counts each of those as a
#: failure, so it is left out here, and only that one.
EXCLUDED = "positive_data_acceptance"
SEED = 20261203
EXAMPLES = 4


@pytest.fixture
def demo(trame: Trame) -> User:
    build_demo(trame)
    admin = trame.accounts.by_email("admin@trame.example")
    assert admin is not None
    return User(admin["account_id"], "admin@trame.example", trame.accounts.issue_token(admin["account_id"], author=SYSTEM))


@pytest.fixture
def served(trame: Trame, demo: User) -> Iterator[str]:
    from core.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(trame), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the demo server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_schemathesis_finds_no_5xx_and_no_conformance_failure(served: str, demo: User, tmp_path: Path) -> None:
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{served}/schema/openapi.json",
            "-H",
            f"Authorization: Bearer {demo.token}",
            "--seed",
            str(SEED),
            "--max-examples",
            str(EXAMPLES),
            "--phases",
            "examples,fuzzing,stateful",
            "--workers",
            "1",
            "--exclude-checks",
            EXCLUDED,
            "--report",
            "json",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.monotonic() - started
    [report_file] = (tmp_path / "report").glob("*.json")
    report: dict[str, Any] = json.loads(report_file.read_text())
    cases = report["test_cases"]
    operations = report["operations"]
    print(f"schemathesis: {cases} in {elapsed:.0f} s, operations {operations}")  # the numbers the issue asks for
    failures = report["failures"]
    assert not failures and not report["errors"], run.stdout[-20000:]
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    tested = operations["tested"] if isinstance(operations, dict) else len(operations)
    assert tested >= 60, "the schema lost operations"


# -- what a client relies on, directly ------------------------------------------------------------
def _schema(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_the_schema_documents_the_error_body_served_and_only_the_api(client: TestClient[Any], admin: User) -> None:
    schema = _schema(client)
    assert set(schema["components"]["schemas"]["Erreur"]["required"]) == {"detail", "status"}
    assert all(path.startswith(("/api/", "/health")) for path in schema["paths"]), "HTML pages leaked into the API schema"
    get_territory = schema["paths"]["/api/v1/territories/{slug}"]["get"]["responses"]
    for status in ("400", "401", "403", "404"):
        assert get_territory[status]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Erreur"
    served = client.get("/api/v1/territories/nulle-part", headers=admin.headers)
    assert served.status_code == 404 and set(served.json()) >= {"detail", "status"}


def test_validator_messages_are_french(client: TestClient[Any], admin: User) -> None:
    client.post("/api/v1/territories", json={"slug": "agen", "name": "Agen"}, headers=admin.headers)
    truncated = client.post("/api/v1/territories", content=b'{"slug": "ag', headers={**admin.headers, "Content-Type": "application/json"})
    wrong_type = client.post("/api/v1/territories", json={"slug": 12, "name": "Agen"}, headers=admin.headers)
    missing = client.post("/api/v1/territories", json={"name": "Agen"}, headers=admin.headers)
    for response in (truncated, wrong_type, missing):
        assert response.status_code == 400, response.text
        detail = response.json()["detail"]
        for english in ("Expected", "truncated", "malformed", "Object missing", "got `"):
            assert english not in detail, detail
    assert "du texte attendu, un nombre entier reçu" in wrong_type.json()["detail"]
    assert "« slug » obligatoire" in missing.json()["detail"]


def test_zero_is_not_a_boolean_in_a_json_body(trame: Trame, client: TestClient[Any], admin: User) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    written = client.post("/api/v1/territories/agen/structures", json={"name": "CCAS d'Agen", "public": True}, headers=admin.headers)
    assert written.status_code == 201, written.text
    refused = client.post("/api/v1/territories/agen/structures", json={"name": "Mission locale", "public": 0}, headers=admin.headers)
    assert refused.status_code == 400 and "« public » : true ou false ou null attendu, un nombre entier reçu" in refused.json()["detail"]


def test_allow_lists_every_method_of_a_path(trame: Trame, client: TestClient[Any]) -> None:
    trame.territories.create("agen", "Agen", author=SYSTEM)
    trame.territories.enable("agen", "annuaire", author=SYSTEM)
    coordinator = make_user(trame, "coordination@agen.example", territory="agen", role="coordinator")
    answer = client.options("/api/v1/territories/agen/people/quelquun", headers=coordinator.headers)
    assert answer.status_code == 204
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE", "OPTIONS"}
