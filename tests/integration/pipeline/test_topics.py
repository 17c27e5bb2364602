"""Topics through the real pipeline: different citizens' words about one matter at one place become one clue, which
continues next week; the clue API and `gateway clues list` show it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ops.gwenv import gateway_env
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import push_in_turn, call, record, wait_for_state, weekly

# Five citizens about a mixing plant beside 云景里小区, in their own words, over a week; two about something else.
PLANT = [
    "小区旁边建了个搅拌站，晚上吵得睡不着，粉尘也大。",
    "投诉云景里小区附近违建搅拌站，彻夜施工污染环境。",
    "云景里小区东侧的混凝土搅拌站每天夜里轰隆隆响，灰尘落满阳台，孩子咳嗽。",
    "云景里小区北门外搅拌站噪音扰民，凌晨两点还在出车，请查一下有没有手续。",
    "云景里小区边上的搅拌站粉尘太大了，窗户都不敢开，晚上还吵。",
]
OTHER = ["梨园镇政府门口公交站台的顶棚坏了，下雨没处躲。", "希望在永顺镇多建几个公共厕所。"]


def _records(prefix: str, texts: list[str], day: int) -> list[dict]:
    return [dict(record(f"{prefix}{i}", category=["环境保护", "噪声污染"], content=text, caller={"name": None, "phone": f"1391234{day:02d}{i:02d}"}),
                 received_at=f"2026-11-{day + i % 3:02d}T2{i % 4}:00:00") for i, text in enumerate(texts)]


def test_one_matter_at_one_place_is_one_clue_that_continues(tmp_path: Path) -> None:
    week1 = weekly("W47", _records("P", PLANT, 16) + [record(f"O{i}", content=t) for i, t in enumerate(OTHER)])
    week2 = weekly("W48", _records("Q", PLANT[:3], 23))
    week2["period"] = {"start": "2026-11-23", "end": "2026-11-29"}
    with running_gateway(tmp_path) as (_, server):
        push_in_turn(server.url, week1, week2)
        orders = {t: call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{t}").body for t in ("P0", "P1", "P2", "P3", "P4", "Q0", "O0")}
        clue_id = orders["P0"]["clue_id"]
        answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/clues/{clue_id}")
        later = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/clues/{orders['Q0']['clue_id']}").body
        missing = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/clues/C999999-001")
    assert clue_id is not None and {orders[t]["clue_id"] for t in ("P1", "P2", "P3", "P4")} == {clue_id}
    assert orders["O0"]["clue_id"] != clue_id
    assert answer.status == 200
    clue = answer.body
    assert clue["report_id"] == "W47" and clue["committee"] == "城建环保委员会" and clue["rank"] == 1
    assert clue["work_orders"] == 5 and clue["citizens"] == 5 and sorted(clue["tickets"]) == ["P0", "P1", "P2", "P3", "P4"]
    assert "搅拌站" in clue["keywords"] and "云景里" in clue["title"] and "搅拌站" in clue["title"]
    assert any(p.get("place") == "云景里" for p in clue["places"])
    assert clue["period"]["label"] == "2026年第47周" and clue["period"]["first"].startswith("2026-11-16")
    assert len(clue["samples"]) == 3 and all("1391234" not in s for s in clue["samples"])
    # Next week's three continue the same topic, and the trend says so.
    assert later["topic_id"] == clue["topic_id"] and later["report_id"] == "W48" and later["work_orders"] == 3
    assert missing.status == 404 and missing.body["status"] == 404 and "C999999-001" in missing.body["detail"]
    listed = subprocess.run([sys.executable, "-m", "gateway.cli", "clues", "list", "--report", "W47"], cwd=tmp_path,
                            env={**gateway_env(data_dir=tmp_path), "COLUMNS": "300"}, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert clue_id in listed.stdout and "搅拌站" in listed.stdout
