"""`gateway clues list`: the clues (线索) of the reports, hottest first, as the office reads them."""
from __future__ import annotations

import argparse

from gateway.ops.terminal import terminal
from rich.table import Table
from sqlalchemy import select


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Clue, Report
    from gateway.pipeline.routing_rules import CLUE_TYPES

    gateway = bootstrap()
    try:
        with gateway.uow.read_session() as session:
            query = select(Clue, Report.report_id).join(Report, Report.id == Clue.report_pk)
            if args.report:
                query = query.where(Report.report_id == args.report)
                if session.scalar(select(Report.id).where(Report.report_id == args.report)) is None:
                    terminal(stderr=True).print(f"no report {args.report!r}; `gateway packets list` shows the reports that have packets")
                    return 1
            rows = session.execute(query.order_by(Clue.report_pk.desc(), Clue.rank, Clue.id).limit(args.limit)).all()
        table = Table(title="线索（按关注度排序）" + (f"：{args.report}" if args.report else ""))
        for column in ("rank", "clue", "report", "committee", "type", "title", "work orders", "citizens", "issues", "likes", "score", "keywords", "places"):
            table.add_column(column)
        for clue, report_id in rows:
            places = "、".join(f"{p['place']}({p['count']})" for p in (clue.named_places or [])[:3]) or "、".join(
                f"{p['street']}({p['count']})" for p in clue.places[:3])
            shared = f"（共同：{'、'.join(clue.shared_with)}）" if clue.shared_with else ""
            table.add_row(str(clue.rank), clue.clue_id, (report_id), clue.committee_id + shared, CLUE_TYPES.get(clue.clue_type, clue.clue_type),
                          (clue.title), str(clue.work_order_count), str(clue.citizen_count), str(clue.issue_count), str(clue.likes),
                          f"{clue.score:.1f}", ("、".join(clue.keywords or [])), (places))
        terminal().print(table)
    finally:
        gateway.close()
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    clues = sub.add_parser("clues", help="the clues (线索) of the reports, hottest first").add_subparsers(dest="clues_command", metavar="ACTION", required=True)
    p = clues.add_parser("list", help="list clues hottest first: rank, type, title, counts, hotness, keywords, places",
                         description="The clues of the newest reports (or of one report), each a matter at a place, hottest first (rank 1 = the hottest of its report). The same fields as GET /api/v1/clues/{clue_id}.")
    p.add_argument("--report", help="only the clues of this report id")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100)")
    p.set_defaults(func=cmd_list)
