"""The OpenAPI document is generated from the contracts, and the running gateway keeps to it (schemathesis)."""
from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from sqlalchemy import func, select

from connectors.http.openapi import build_openapi  # what schemathesis tests the running gateway against
from gateway.bootstrap import Gateway
from gateway.db.models import OutboxMessage, Report
from gateway.serve import ServerThread
from gateway.signing import signed_headers
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.reports import call, record, weekly
from tests.helpers.gateway import running_gateway


SIGN_ME = "sign-me"
# Explicit credentials as schemathesis sees them; the session signs only requests
# that still carry them unchanged, so its probes without (or with broken)
# credentials reach the gateway unsigned and must get 401.
CREDENTIALS = {"X-Gateway-Key-Id": CLIENT_KEY_ID, "X-Gateway-Timestamp": "0", "X-Gateway-Nonce": SIGN_ME, "X-Gateway-Signature": SIGN_ME}
OFFICE_KEY = ("office-desk", "office-secret-0123456789")
LOOP_PATHS = ("/api/v1/consultations", "/api/v1/supervision")


def _config(folder: Path) -> Path:
    """An office key beside the command center's: the loop's endpoints are for workstation and office keys."""
    path = folder / "gateway.yaml"
    path.write_text(f"clients:\n  - {{key_id: {OFFICE_KEY[0]}, secrets: [{OFFICE_KEY[1]}], role: office}}\n", encoding="utf-8")
    return path


class HmacAuth(requests.auth.AuthBase):
    """Signs each request with signature v2 as the contract says (a fresh nonce each time), with the key whose role the endpoint is for."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if any(request.headers.get(name) != value for name, value in CREDENTIALS.items()):
            return request
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        target = request.path_url  # path and query exactly as on the request line
        key_id, secret = OFFICE_KEY if target.startswith(LOOP_PATHS) else (CLIENT_KEY_ID, CLIENT_SECRET)
        request.headers.update(signed_headers(key_id, secret, body, method=request.method, target=target))
        return request


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, ServerThread]]:
    folder = tmp_path_factory.mktemp("openapi")
    with running_gateway(folder, max_body_bytes=2_000_000, config=_config(folder)) as pair:
        yield pair


@pytest.fixture(scope="module")
def server(served: tuple[Gateway, ServerThread]) -> ServerThread:
    return served[1]


@pytest.fixture(scope="module")
def signed_session() -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = HmacAuth()
    yield session
    session.close()


def _served_document(server: ServerThread) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "/api/v1/openapi.json") as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return json.load(response)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_served_document_is_a_valid_openapi_3_1_document(server: ServerThread) -> None:
    # Validated by the official OpenAPI 3.1 meta-schema (shipped with schemathesis) in an independent validator
    # (jsonschema_rs), not compared with the function that made it.
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    served = _served_document(server)
    assert served["openapi"] == "3.1.0"
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    assert [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(served)] == []
    # the meta-schema leaves schema objects to the JSON Schema dialect: each must be a valid 2020-12 schema
    schemas = served["components"]["schemas"]
    assert [name for name, schema in schemas.items() if not jsonschema_rs.meta.is_valid(schema)] == []
    # every reference points at something in the document
    assert sorted({ref for ref in _refs(served) if not (ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas)}) == []


# Written by hand from INTEGRATION.md §1: what a command center relies on when it pushes a report.
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PUSH_REPORT = {
    "operationId": "pushReport",
    "security": [{"keyId": [], "timestamp": [], "nonce": [], "signature": []}, {"keyId": [], "timestamp": [], "signature": []}],  # v2, v1
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
    "responses": {
        "200": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}},
        "202": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}},
        "401": PROBLEM, "403": PROBLEM, "409": PROBLEM, "413": PROBLEM, "415": PROBLEM, "422": PROBLEM,
    },
}
SIGNATURE_HEADERS = {
    "keyId": {"type": "apiKey", "in": "header", "name": "X-Gateway-Key-Id"},
    "timestamp": {"type": "apiKey", "in": "header", "name": "X-Gateway-Timestamp"},
    "nonce": {"type": "apiKey", "in": "header", "name": "X-Gateway-Nonce"},
    "signature": {"type": "apiKey", "in": "header", "name": "X-Gateway-Signature"},
}


def test_the_served_document_says_what_pushing_a_report_answers_and_how_it_is_signed(server: ServerThread) -> None:
    served = _served_document(server)
    push = served["paths"]["/api/v1/reports"]["post"]
    assert push["operationId"] == PUSH_REPORT["operationId"]
    assert push["security"] == PUSH_REPORT["security"]
    assert push["requestBody"] == PUSH_REPORT["requestBody"]
    assert {status: answer["content"] for status, answer in push["responses"].items()} == PUSH_REPORT["responses"]
    assert all(answer["description"] for answer in push["responses"].values())
    schemes = served["components"]["securitySchemes"]
    assert {name: {k: v for k, v in scheme.items() if k != "description"} for name, scheme in schemes.items()} == SIGNATURE_HEADERS
    assert "HMAC-SHA256" in schemes["signature"]["description"] and "300 s" in schemes["signature"]["description"]
    assert served["components"]["schemas"]["WorkOrderRecord"]["required"] == ["ticket_no", "received_at", "content"]
    problem = served["components"]["schemas"]["Problem"]
    assert problem["required"] == ["title", "status"] and {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    # every operation under /api/v1 is signed (/healthz is not under it)
    unsigned = sorted(f"{method.upper()} {path}" for path, item in served["paths"].items() for method, op in item.items()
                      if path.startswith("/api/v1") and op.get("security") != PUSH_REPORT["security"])
    assert unsigned == []


def test_the_api_page_lists_every_operation(server: ServerThread) -> None:
    with urllib.request.urlopen(server.url + "/api/v1/docs") as response:
        assert response.headers["Content-Type"].startswith("text/html")
        page = response.read().decode("utf-8")
    for operation in ("pushReport", "uploadReport", "reportStatus", "workOrderStatus", "fileConsultation", "uploadConsultation",
                      "consultationStatus", "updateSupervision", "health"):
        assert f'id="{operation}"' in page
    assert "<script" not in page  # readable offline, nothing fetched from elsewhere


schema = schemathesis.openapi.from_dict(build_openapi())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_gateway_keeps_to_its_spec(case: schemathesis.Case, server: ServerThread, signed_session: requests.Session) -> None:
    # Every check but "schema-valid data is accepted": a well-formed upload can still
    # hold a file that is no spreadsheet, and a period can end before it starts;
    # JSON Schema cannot say either, and the answer (422, documented) is right.
    excluded = [schemathesis.checks.positive_data_acceptance]
    if str((case.query or {}).get("partial", "")).lower() in ("true", "1"):
        # ?partial=true is the documented way to have a report with bad records
        # accepted (202, the bad ones listed in the receipt): not a spec violation.
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.call_and_validate(base_url=server.url, session=signed_session, headers=CREDENTIALS, excluded_checks=excluded)


def test_whatever_schemathesis_sent_went_all_the_way_through_the_pipeline(served: tuple[Gateway, ServerThread]) -> None:
    # Strange but valid input must not break a worker further down (it once did: control characters
    # in a spreadsheet cell). Whatever order the tests run in, at least one such report is pushed here.
    gateway, server = served
    odd = weekly("ODD-INPUT", [record("ODD1", content="门口\u0007积水\u200b，𠀀𪚥 =1+1 <b>x</b>", street="\u3000梨园镇 ")])
    assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", odd).status in (200, 202)
    deadline = time.monotonic() + 180  # a bound on waiting, not a figure: schemathesis may have pushed a hundred reports
    while True:
        with gateway.uow.session_factory() as session:
            reports = session.scalars(select(Report)).all()
            undone = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.done_at.is_(None)))
        if reports and undone == 0:
            break
        if time.monotonic() >= deadline:
            with gateway.uow.session_factory() as session:
                stuck = [(m.actor, m.payload) for m in session.scalars(select(OutboxMessage).where(OutboxMessage.done_at.is_(None)))]
                states = [(r.report_id, r.kind, r.state) for r in session.scalars(select(Report).where(Report.state != "delivered"))]
            raise AssertionError(f"{undone} pipeline step(s) not done after 180 s: {stuck}; reports not delivered: {states}")
        time.sleep(0.5)
    assert {r.state for r in reports} == {"delivered"}



def test_stateful_sequences_keep_to_the_spec(tmp_path_factory: pytest.TempPathFactory, signed_session: requests.Session) -> None:
    """schemathesis' stateful mode, a fresh gateway per scenario: a receipt's report id fed to its status, a Table 1's ids to its views."""
    from hypothesis.stateful import run_state_machine_as_test

    runs = {"scenarios": 0, "steps": 0}
    failures: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from an empty gateway, so that a sequence replayed by Hypothesis meets the same answers.
            runs["scenarios"] += 1
            folder = tmp_path_factory.mktemp("stateful")
            self._served = running_gateway(folder, max_body_bytes=2_000_000, workers=False, config=_config(folder))
            self._gateway, self._server = self._served.__enter__()

        def teardown(self) -> None:
            self._served.__exit__(None, None, None)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            runs["steps"] += 1
            return {"base_url": self._server.url, "session": signed_session, "headers": CREDENTIALS}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            excluded = [schemathesis.checks.positive_data_acceptance]  # as in the stateless test, for the same reasons
            if str((case.query or {}).get("partial", "")).lower() in ("true", "1"):
                excluded.append(schemathesis.checks.negative_data_rejection)
            try:
                case.validate_response(response, additional_checks=additional_checks, excluded_checks=excluded, transport_kwargs=kwargs)
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {str(exc)[:1500]}")
                raise

    run_state_machine_as_test(Workflow, settings=settings(max_examples=25, stateful_step_count=5, deadline=None, database=None,
                                                          suppress_health_check=list(HealthCheck)))
    print("stateful:", runs)
    assert runs["steps"] >= 25 and failures == []
