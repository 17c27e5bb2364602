"""Small reports for tests, with personal data that must never leave unmasked."""
from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import aiohttp

from connectors.push_client import Answer, SignedClient
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET

CALLER_NAME = "王建国"
CALLER_PHONE = "13812345678"


def record(ticket_no: str, *, category: Any = ("城乡建设", "市政设施", "道路积水"), street: str = "梨园镇", content: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "ticket_no": ticket_no,
        "received_at": "2026-11-16T09:12:00",
        "channel": "phone",
        "category": list(category) if isinstance(category, tuple) else category,
        "district": "通州区",
        "street": street,
        "community": "云景里社区",
        "address": "云景里小区12号楼东侧",
        "content": content or f"我叫{CALLER_NAME}，电话{CALLER_PHONE}，云景里小区门口道路积水严重，希望尽快解决。",
        "caller": {"name": CALLER_NAME, "phone": CALLER_PHONE},
        "handling_unit": "梨园镇政府",
        "status": "closed",
        **extra,
    }


def weekly(report_id: str = "TZ-2026-W47", records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "report_id": report_id,
        "kind": "weekly",
        "period": {"start": "2026-11-16", "end": "2026-11-22"},
        "issued_at": "2026-11-23T08:00:00+08:00",
        "title": "通州区接诉即办第47周周报",
        # 4 flooding complaints in one town (a new local problem: 社情民意信息线索), 5 about
        # kindergarten places in 3 towns (spread: 提案线索, copied to 提案委), 1 excluded.
        "records": records if records is not None else [record(f"26111600{i:05d}") for i in range(4)]
        + [record(f"261116010{i:04d}", category=["教育文体", "教育", "学前教育"], street=town, community=community,
                  content=f"{town}缺少公办幼儿园学位，孩子入园难（{i}）。")
           for i, (town, community) in enumerate([("永顺镇", "永顺南里社区"), ("永顺镇", "西马庄社区"), ("宋庄镇", "小堡村"),
                                                  ("台湖镇", "京洲园社区"), ("台湖镇", "台湖村")], start=1)]
        + [record("2611160200001", category=["政法", "司法"], content="和开发商的纠纷已向法院起诉。", flags=["litigation"])],
    }


def call(base_url: str, key_id: str, secret: str, fn: str, *args: Any, **kwargs: Any) -> Answer:
    """Run one SignedClient call from synchronous test code."""
    async def go() -> Answer:
        async with aiohttp.ClientSession() as session:
            return await getattr(SignedClient(session, base_url, key_id, secret), fn)(*args, **kwargs)

    return asyncio.run(go())


def raw_post(base_url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    async def go() -> tuple[int, Any, dict[str, str]]:
        async with aiohttp.ClientSession() as session:
            async with session.post(base_url + path, data=io.BytesIO(body), headers=headers) as response:
                text = await response.text()
                return response.status, (json.loads(text) if text else None), dict(response.headers)

    return asyncio.run(go())


def wait_for_state(base_url: str, key_id: str, secret: str, report_id: str, state: str = "delivered", timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        answer = call(base_url, key_id, secret, "get", f"/api/v1/reports/{report_id}")
        last = answer.body
        if answer.status == 200 and last["state"] == state:
            return last
        time.sleep(0.2)
    raise AssertionError(f"report {report_id} did not reach {state!r} in {timeout} s; last status: {last}")


def push_in_turn(base_url: str, *reports: dict[str, Any], state: str = "delivered") -> None:
    """Push each report with the test client's key and wait until it reaches `state` before the next (a week, then the next)."""
    for report in reports:
        answer = call(base_url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report)
        assert answer.status == 202, answer.body
        wait_for_state(base_url, CLIENT_KEY_ID, CLIENT_SECRET, str(report["report_id"]), state)
