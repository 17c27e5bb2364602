"""Through the real pipeline (signed push → normalize → route → mail): a caller named only in the caller field is
masked wherever the text goes, and a text that says the matter is in court is excluded although no flag says so."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.db.models import WorkOrder
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.mailcheck import every_text
from tests.helpers.reports import call, record, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer

NAME, PHONE = "赵丽华", "13912345678"
LAMP = ["{n}反映小区路灯不亮，晚上出行不安全，希望尽快修复。", "{n}反映小区路灯不亮已经一周，晚上出行不安全，希望尽快修复。",
        "{n}反映小区路灯不亮，老人晚上出行不安全，希望尽快修复。"]
LAWSUITS = {
    "L1": "和开发商的房屋质量纠纷已向法院起诉，希望政府督促开发商维修。",
    "L2": "物业乱收费的事我已经起诉了，希望有关部门关注物业收费问题。",
    "L3": "单位拖欠工资，已申请仲裁，希望劳动部门督促。",
    "L4": "对征收补偿决定不服，已向区政府申请行政复议，希望尽快答复。",
}


@dataclass
class Run:
    served: dict[str, Any]
    stored: dict[str, tuple[str, str | None, str | None]]
    status: dict[str, Any]
    emails: list[tuple[list[str], EmailMessage]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    caller = {"name": NAME, "phone": PHONE}
    records = [record(f"Z{i}", category=["城乡建设", "市政设施", "路灯"], content=text.format(n=NAME), caller=caller, address=f"{NAME}家楼下")
               for i, text in enumerate(LAMP)]
    records += [record(ticket, category=["城乡建设", "住房"], content=text, flags=[]) for ticket, text in LAWSUITS.items()]
    smtp = SmtpServer().start()
    try:
        with running_gateway(tmp_path_factory.mktemp("masking"), smtp_url=smtp.url) as (gateway, server):
            answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly("W47-MASK", records))
            assert answer.status == 202, answer.body
            status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "W47-MASK")
            served = {r["ticket_no"]: call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{r['ticket_no']}").body for r in records}
            with gateway.uow.session_factory() as session:
                stored = {t: (c, a, n) for t, c, a, n in session.execute(select(WorkOrder.ticket_no, WorkOrder.content_masked, WorkOrder.address, WorkOrder.caller_masked))}
            emails = smtp.inbox.wait_for(len(status["packets"]))
        yield Run(served, stored, status, emails)
    finally:
        smtp.stop()


def test_a_caller_named_only_in_the_caller_field_is_masked_where_the_text_is_stored_served_and_mailed(run: Run) -> None:
    for i, text in enumerate(LAMP):
        ticket = f"Z{i}"
        assert run.stored[ticket] == (text.format(n="赵某某"), "赵某某家楼下", "赵某某")  # stored
        assert run.served[ticket]["content"] == text.format(n="赵某某") and run.served[ticket]["caller"] == "赵某某"  # served
    mailed = [every_text(message) for _, message in run.emails]
    assert any("赵某某反映小区路灯不亮" in text for text in mailed)  # the texts did go out …
    assert not [text for text in mailed if NAME in text or PHONE in text]  # … masked
    assert not [t for t, row in run.stored.items() if NAME in str(row)] and not [t for t, v in run.served.items() if NAME in str(v)]


def test_text_that_says_a_lawsuit_was_filed_is_excluded_without_a_flag(run: Run) -> None:
    for ticket in LAWSUITS:
        order = run.served[ticket]
        assert order["excluded"] == "litigation", order
        assert order["clue_id"] is None and order["committee"] is None and order["packets"] == []
    assert run.status["records"]["excluded_by_reason"] == {"litigation": len(LAWSUITS)}
    assert run.status["records"]["routed"] == len(LAMP)
    mailed = "\n".join(every_text(message) for _, message in run.emails)
    assert not [text for text in LAWSUITS.values() if text[:8] in mailed]  # never routed, never mailed
