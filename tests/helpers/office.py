"""The office's pages in tests: clues and packets written straight into the database, users, and logging in."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from gateway.bootstrap import Gateway
from gateway.db.models import Clue, Packet, PacketClue, Report, ReportWorkOrder, WorkOrder
from gateway.office.accounts import add_user

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def add(gw: Gateway, username: str, role: str, *, committee: str | None = None, workstation: str | None = None,
        password: str = PASSWORD) -> None:
    with gw.uow.session_factory() as session:
        add_user(session, gw.routing, username=username, password=password, role=role, committee_id=committee, workstation=workstation,
                 display_name=username, by="test")
        session.commit()


def _clue(report: Report, clue_id: str, committee: str, clue_type: str, title: str, score: float, street: str, **extra: Any) -> Clue:
    return Clue(clue_id=clue_id, report_pk=report.id, committee_id=committee, clue_type=clue_type, reason="依据", score=score, title=title,
                category=["城乡建设"], work_order_count=2, citizen_count=2, issue_count=1, places=[{"street": street, "count": 2}],
                period_label="2026年第47周", trend="新出现", samples=["云景里小区门口道路积水严重，电话138****5678"], ticket_nos=[],
                keywords=["积水"], rank=1, **extra)


def seed(gw: Gateway) -> None:
    """One weekly report: a flooding clue of 城建环保委, a kindergarten 提案线索 of 教科卫体委 (copied to 提案委), a triage clue of the office."""
    with gw.uow.session_factory() as s:
        report = Report(client_id="cc", report_id="TZ-2026-W47", receipt_id="R-1", kind="weekly", body_sha256="0" * 64, record_count=3,
                        period_start=date(2026, 11, 16), period_end=date(2026, 11, 22))
        s.add(report)
        s.flush()
        clues = [
            _clue(report, "C-URBAN-1", "urban", "public_opinion", "道路积水等问题", 9.5, "梨园镇", named_places=[{"place": "云景里", "count": 2}]),
            _clue(report, "C-EDU-1", "education", "proposal", "永顺镇、宋庄镇：幼儿园学位不足等问题", 7.0, "永顺镇"),
            _clue(report, "C-OFFICE-1", "office", "public_opinion", "无法分办：噪音扰民等问题", 3.0, "台湖镇", triage=True),
        ]
        s.add_all(clues)
        s.flush()
        for n, clue in enumerate(clues):
            order = WorkOrder(ticket_no=f"26111600{n:05d}", received_at=datetime(2026, 11, 16, 1, 12, tzinfo=UTC), category=["城乡建设"],
                              street=clue.places[0]["street"], community="云景里社区", content_masked=f"{clue.title}，联系电话138****5678")
            s.add(order)
            s.flush()
            s.add(ReportWorkOrder(report_pk=report.id, work_order_pk=order.id, record_index=n, clue_pk=clue.id))
        for committee, carried in (("urban", [(clues[0], False)]), ("education", [(clues[1], False)]),
                                   ("proposals", [(clues[1], True)]), ("office", [(clues[2], False)])):
            packet = Packet(packet_id=f"P000001-{committee}", report_pk=report.id, committee_id=committee, subject=f"线索包 {committee}",
                            state="delivered")
            s.add(packet)
            s.flush()
            for position, (clue, copy) in enumerate(carried):
                s.add(PacketClue(packet_pk=packet.id, clue_pk=clue.id, position=position, copy=copy))
        s.commit()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)
