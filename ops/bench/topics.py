#!/usr/bin/env python3
"""Topic quality on the real message board: does each hot issue become a clue of its own?

    .venv/bin/python ops/bench/topics.py [--data ../shared/data] [--json]

Pushes ../shared/data/board-dev.jsonl (4,143 real messages) as one monthly
report, without categories, through the gateway's own stages (intake,
normalization with category inference, routing with topic discovery) on an
embedded gateway in a temporary folder, then scores the clues against the
hand-labelled hot issues of tests/data/board_hot_issues.yaml: for each issue the
share of its messages in its biggest clue (concentration), the share of that
clue that belongs to it (purity), their F1, and that clue's rank by hotness.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


@dataclass
class IssueScore:
    issue: str
    title: str
    messages: int
    clue_id: str | None
    clue_title: str | None
    clue_size: int
    concentration: float
    purity: float
    f1: float
    rank: int | None


@dataclass
class BoardRun:
    messages: int
    clues: int
    in_clues: int
    route_seconds: float
    scores: list[IssueScore]

    @property
    def mean_f1(self) -> float:
        return sum(s.f1 for s in self.scores) / len(self.scores)


def board_report(messages: list[dict]) -> dict:
    """The board as a monthly report: one work order per message, its title and text as the complaint, no category."""
    records = []
    for m in messages:
        day, clock = m["time"].split(" ") if " " in m["time"] else (m["time"], "00:00:00")
        y, mo, d = (int(x) for x in day.replace("-", "/").split("/"))
        hms = [int(float(x)) for x in clock.split(":")] + [0, 0]
        records.append({
            "ticket_no": f"BOARD-{m['message_id']}",
            "received_at": f"{y:04d}-{mo:02d}-{d:02d}T{hms[0]:02d}:{hms[1]:02d}:{hms[2]:02d}",
            "channel": "web",
            "content": f"{m['title']}。{m['text']}"[:20000],
            "likes": int(m.get("likes") or 0),
        })
    return {"report_id": "BOARD-DEV", "kind": "monthly", "period": {"start": "2019-01-01", "end": "2020-01-31"},
            "issued_at": "2020-02-01T08:00:00+08:00", "title": "留言板（board-dev）", "records": records}


def run(messages: list[dict], labels: dict[str, str], titles: dict[str, str]) -> BoardRun:
    from sqlalchemy import select

    from gateway.bootstrap import bootstrap
    from gateway.db.models import Clue, ReportWorkOrder, WorkOrder
    from gateway.intake.receive import CHUNK_SIZE, ReceiveReport, handle_receive_report
    from gateway.pipeline.normalize import handle_normalize_report
    from gateway.pipeline.route import handle_route_report

    report = board_report(messages)
    with tempfile.TemporaryDirectory() as tmp:
        gateway = bootstrap(data_dir=Path(tmp))
        gateway.uow.dispatch = None  # the stages run here, one after the other
        try:
            handle_receive_report(ReceiveReport("board", report), gateway.uow())
            for seq in range(-(-len(messages) // CHUNK_SIZE)):
                handle_normalize_report(1, gateway.uow(), normalizer=gateway.normalizer, keep_raw=False, assign=gateway.stages.assign_early, seq=seq)
            started = time.perf_counter()
            handle_route_report(1, gateway.uow(), routing=gateway.routing, mail_domain="bench.local",
                                min_confidence=gateway.settings.category_min_confidence, vocabulary=gateway.topic_vocabulary)
            route_seconds = time.perf_counter() - started
            with gateway.uow.session_factory() as session:
                clue_of = dict(session.execute(
                    select(WorkOrder.ticket_no, Clue.clue_id).join(ReportWorkOrder, ReportWorkOrder.work_order_pk == WorkOrder.id)
                    .join(Clue, Clue.id == ReportWorkOrder.clue_pk)).all())
                clues = {c.clue_id: c for c in session.scalars(select(Clue))}
                clue_info = {cid: (c.title, c.rank, c.work_order_count) for cid, c in clues.items()}
        finally:
            gateway.close()
    by_issue: dict[str, list[str]] = {}
    for message_id, issue in labels.items():
        by_issue.setdefault(issue, []).append(f"BOARD-{message_id}")
    scores = []
    for issue, tickets in sorted(by_issue.items()):
        in_clues = Counter(clue_of[t] for t in tickets if t in clue_of)
        if in_clues:
            clue_id, hits = in_clues.most_common(1)[0]
            title, rank, size = clue_info[clue_id]
        else:
            clue_id, hits, title, rank, size = None, 0, None, None, 0
        concentration = hits / len(tickets)
        purity = hits / size if size else 0.0
        f1 = 2 * concentration * purity / (concentration + purity) if hits else 0.0
        scores.append(IssueScore(issue, titles[issue], len(tickets), clue_id, title, size, round(concentration, 3), round(purity, 3), round(f1, 3), rank))
    return BoardRun(len(messages), len(clues), len(clue_of), round(route_seconds, 2), scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="folder with board-dev.jsonl (default ../shared/data)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.data:
        os.environ["GATEWAY_SHARED_DATA"] = str(args.data)
    from tests.helpers.board import hot_issue_labels, hot_issues, load_board

    messages = load_board()
    labels = hot_issue_labels(messages)
    result = run(messages, labels, {i["id"]: i["title"] for i in hot_issues()})
    if args.json:
        print(json.dumps({**asdict(result), "mean_f1": result.mean_f1}, ensure_ascii=False, indent=1))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.messages} messages → {result.clues} clues ({result.in_clues} messages in clues); route stage {result.route_seconds} s")
    for column in ("issue", "messages", "clue", "size", "conc.", "purity", "F1", "rank", "clue title"):
        table.add_column(column)
    for s in result.scores:
        table.add_row(s.issue, str(s.messages), s.clue_id or "—", str(s.clue_size), f"{s.concentration:.2f}", f"{s.purity:.2f}",
                      f"{s.f1:.2f}", str(s.rank or "—"), s.clue_title or "")
    Console().print(table)
    print(f"mean F1 {result.mean_f1:.3f}; issues with F1 ≥ 0.8: {sum(s.f1 >= 0.8 for s in result.scores)} of {len(result.scores)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
